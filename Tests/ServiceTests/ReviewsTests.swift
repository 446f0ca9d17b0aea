import Foundation
import HTTPKit
@testable import Reviews
import Testing
import TestSupport
import SystemKit
import ServiceKit

@Suite struct ReviewsTests {
    func router(_ environment: [String: String]) throws -> ServiceUnderTest {
        try ServiceUnderTest(ReviewsApp.definition, .router, environment)
    }

    @Test func v1HasNoRatingsAndTheOriginalSpacing() throws {
        let response = get(try router(["HOSTNAME": "reviews-v1-x"]), "/reviews/7")
        #expect(
            response.bodyText
                == #"{"id": "7","podname": "reviews-v1-x","clustername": "null","reviews": [{  "reviewer": "#
                + #""Reviewer1",  "text": "An extremely entertaining play by Shakespeare. The slapstick humour "#
                + #"is refreshing!"},{  "reviewer": "Reviewer2",  "text": "Absolutely fun and entertaining. The "#
                + #"play lacks thematic depth when compared to other plays by Shakespeare."}]}"#
        )
        #expect(try JSON.parse(response.bodyText)["id"]?.stringValue == "7")
    }

    @Test func versionsChooseRatingsAndColour() throws {
        let base: [String: String] = [:]
        func config(_ env: [String: String]) throws -> ReviewsSettings {
            ReviewsSettings(
                try Settings(table: ServerSettings.table + ReviewsApp.table, environment: base.merging(env) { $1 }))
        }
        #expect(try config([:]).ratingsEnabled == false)
        #expect(try config(["SERVICE_VERSION": "v2"]).starColor == "black")
        #expect(try config(["SERVICE_VERSION": "v2"]).ratingsTimeout == 10)
        #expect(try config(["SERVICE_VERSION": "v3"]).starColor == "red")
        #expect(try config(["SERVICE_VERSION": "v3"]).ratingsTimeout == 2.5)
        #expect(try config(["ENABLE_RATINGS": "true", "STAR_COLOR": "red"]).ratingsEnabled)
        #expect(try config(["SERVICE_VERSION": "v2", "ENABLE_RATINGS": "false"]).ratingsEnabled == false)
        #expect(throws: SettingError.self) { try config(["STAR_COLOR": "red\"><script>"]) }
        #expect(
            try config(["SERVICES_DOMAIN": "ns.svc.cluster.local"]).ratingsURL
                == "http://ratings.ns.svc.cluster.local:9080")
    }

    @Test func v2AsksRatingsWithThePropagatedHeaders() throws {
        let recorder = Recorder()
        let ratings = try TestServer { request in
            recorder.record(request)
            return .json(#"{"id":0,"ratings":{"Reviewer1":5,"Reviewer2":4}}"#)
        }
        defer { ratings.stop() }
        let r = try router([
            "SERVICE_VERSION": "v2", "RATINGS_HOSTNAME": "127.0.0.1", "RATINGS_SERVICE_PORT": String(ratings.port),
        ])
        let response = get(r, "/reviews/0", headers: ["end-user": "jason", "x-b3-traceid": "abc", "x-other": "no"])
        #expect(response.bodyText.contains(#""rating": {"stars": 5, "color": "black"}"#))
        #expect(response.bodyText.contains(#""rating": {"stars": 4, "color": "black"}"#))
        let seen = try #require(recorder.last)
        #expect(seen.path == "/ratings/0")
        #expect(seen.headers["end-user"] == "jason")
        #expect(seen.headers["x-b3-traceid"] == "abc")
        #expect(seen.headers["x-other"] == nil)
        #expect(seen.headers["Accept"] == "application/json")
    }

    @Test func ratingsFailureGivesThePerReviewerError() throws {
        let ratings = try TestServer { _ in .json(#"{"error":"Service unavailable"}"#, status: .serviceUnavailable) }
        defer { ratings.stop() }
        let r = try router([
            "SERVICE_VERSION": "v3", "RATINGS_HOSTNAME": "127.0.0.1", "RATINGS_SERVICE_PORT": String(ratings.port),
        ])
        let body = get(r, "/reviews/0").bodyText
        #expect(
            body.components(separatedBy: #""rating": {"error": "Ratings service is currently unavailable"}"#).count == 3
        )
        ratings.stop()
        #expect(get(r, "/reviews/0").bodyText.contains("Ratings service is currently unavailable"))
    }

    @Test func slowRatingsAreCutAtTheTimeout() throws {
        let ratings = try TestServer { _ in
            usleep(3_000_000)
            return .json(#"{"id":0,"ratings":{"Reviewer1":5,"Reviewer2":4}}"#)
        }
        defer { ratings.stop() }
        let r = try router([
            "SERVICE_VERSION": "v3", "RATINGS_TIMEOUT": "300ms", "RATINGS_HOSTNAME": "127.0.0.1",
            "RATINGS_SERVICE_PORT": String(ratings.port),
        ])
        let start = Deadline.now
        #expect(get(r, "/reviews/0").bodyText.contains("Ratings service is currently unavailable"))
        #expect(secondsSince(start) < 2, "a 0.3 s timeout against a 3 s answer")
    }
}
