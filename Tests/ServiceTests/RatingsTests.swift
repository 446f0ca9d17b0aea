import Foundation
import HTTPKit
@testable import Ratings
import Testing
import TestSupport
import SystemKit
import ServiceKit

@Suite struct RatingsTests {
    func router(_ environment: [String: String] = [:]) throws -> ServiceUnderTest {
        try ServiceUnderTest(RatingsApp.definition, .router, environment)
    }

    func post(_ router: ServiceUnderTest, _ target: String, _ body: String) -> Response {
        router.respond(
            to: Request(
                method: .post, target: target, headers: ["Content-Type": "application/json"], body: Array(body.utf8)))
    }

    @Test func defaultRatings() throws {
        let response = get(try router(), "/ratings/0")
        #expect(response.bodyText == #"{"id":0,"ratings":{"Reviewer1":5,"Reviewer2":4}}"#)
        #expect(get(try router(), "/health").bodyText == #"{"status":"Ratings is healthy"}"#)
    }

    @Test(arguments: ["/ratings/1abc", "/ratings/abc", "/ratings/010", "/ratings/0x1A", "/ratings/2147483648"])
    func idsMustBeDecimal(_ target: String) throws {
        let response = get(try router(), target)
        #expect(response.status == .badRequest)
        #expect(response.bodyText == #"{"error":"please provide numeric product ID"}"#)
    }

    @Test func otherMethodsAre405NotAHang() throws {
        let response = try router().respond(to: Request(method: .delete, target: "/ratings/1"))
        #expect(response.status == .methodNotAllowed)
        #expect(response.headers["Allow"]?.contains("POST") == true)
    }

    @Test func postedRatingsAreKeptAndReadBack() throws {
        let r = try router()
        let posted = post(r, "/ratings/4", #"{"Reviewer1":1,"Reviewer2":2}"#)
        #expect(posted.bodyText == #"{"id":4,"ratings":{"Reviewer1":1,"Reviewer2":2}}"#)
        #expect(get(r, "/ratings/4").bodyText == posted.bodyText)
        #expect(post(r, "/ratings/4", "{bad").bodyText == #"{"error":"please provide valid ratings JSON"}"#)
        #expect(post(r, "/ratings/4", "").status == .badRequest)
    }

    @Test func theStoreIsBounded() throws {
        let r = try router(["RATINGS_STORE_MAX": "2", "RATINGS_MAX_ENTRY_BYTES": "64"])
        #expect(post(r, "/ratings/1", "5").status == .ok)
        #expect(post(r, "/ratings/2", "5").status == .ok)
        #expect(post(r, "/ratings/3", "5").status.code == 507)
        #expect(post(r, "/ratings/2", "6").status == .ok)
        #expect(post(r, "/ratings/1", "[" + String(repeating: "1,", count: 40) + "1]").status == .contentTooLarge)
    }

    @Test func faultyAlwaysAndNever() throws {
        let always = try router(["SERVICE_VERSION": "v-faulty", "FAULT_PROBABILITY": "1"])
        let response = get(always, "/ratings/0")
        #expect(response.status == .serviceUnavailable)
        #expect(response.bodyText == #"{"error":"Service unavailable"}"#)
        let never = try router(["SERVICE_VERSION": "v-faulty", "FAULT_PROBABILITY": "0"])
        #expect(get(never, "/ratings/0").status == .ok)
    }

    @Test func faultyWithASeedFailsAboutHalf() throws {
        let r = try router(["SERVICE_VERSION": "v-faulty", "RAND_SEED": "42"])
        let failures = (0..<1000).filter { _ in get(r, "/ratings/0").status == .serviceUnavailable }.count
        #expect((400...600).contains(failures))
        let again = try router(["SERVICE_VERSION": "v-faulty", "RAND_SEED": "42"])
        #expect((0..<1000).filter { _ in get(again, "/ratings/0").status == .serviceUnavailable }.count == failures)
    }

    @Test func delayedWaits() throws {
        let r = try router(["SERVICE_VERSION": "v-delayed", "FAULT_PROBABILITY": "1", "FAULT_DELAY": "300ms"])
        let start = Deadline.now
        #expect(get(r, "/ratings/0").status == .ok)
        #expect(secondsSince(start) >= 0.3)
    }

    @Test func unavailableAndUnhealthyTakeTurns() throws {
        let unavailable = try router(["SERVICE_VERSION": "v-unavailable", "UNAVAILABLE_PERIOD": "200ms"])
        #expect(get(unavailable, "/ratings/0").status == .ok)
        usleep(250_000)
        #expect(get(unavailable, "/ratings/0").status == .serviceUnavailable)
        let unhealthy = try router(["SERVICE_VERSION": "v-unhealthy", "UNHEALTHY_PERIOD": "200ms"])
        #expect(get(unhealthy, "/health").status == .ok)
        usleep(250_000)
        #expect(get(unhealthy, "/health").bodyText == #"{"status":"Ratings is not healthy"}"#)
        #expect(get(unhealthy, "/health").status == .internalServerError)
        #expect(get(unhealthy, "/ratings/0").status == .serviceUnavailable)
    }

    @Test func badSettingsNameTheVariable() {
        for (name, value) in [("SERVICE_VERSION", "v3"), ("FAULT_PROBABILITY", "2"), ("RAND_SEED", "x")] {
            do {
                _ = try router([name: value])
                Issue.record("\(name)=\(value) accepted")
            } catch let error as SettingError {
                #expect(error.variable == name)
            } catch {
                Issue.record("\(error)")
            }
        }
        // v2 without DB_TYPE=mysql means MongoDB in the original: DB_TYPE is the variable to fix.
        #expect(throws: SettingError.self) { try router(["SERVICE_VERSION": "v2"]) }
        #expect((try? router(["SERVICE_VERSION": "v2", "DB_TYPE": "mongodb"])) == nil)
    }
}
