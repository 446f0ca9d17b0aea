import Foundation
import HTTPKit
import MySQLKit
import TestSupport
import Testing
import SystemKit
import ServiceKit

/// ratings v2 against a real MariaDB: the stars come from the database, failures are fast 503s naming it, and a
/// database restart heals without restarting ratings.
@Suite(.serialized, .enabled(if: mariadbAvailable, "MariaDB is not installed (scripts/test.sh installs it)"))
struct RatingsMySQLTests {
    func ratings(_ server: MariaDBProcess, _ extra: [String: String] = [:]) throws -> ServiceProcess {
        var environment = [
            "SERVICE_VERSION": "v2", "DB_TYPE": "mysql", "MYSQL_DB_HOST": "127.0.0.1",
            "MYSQL_DB_PORT": String(server.port), "MYSQL_DB_PASSWORD": MariaDBProcess.password,
        ]
        environment.merge(extra) { $1 }
        return try ServiceProcess("ratings", environment, readyPath: "/health")
    }

    func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = Deadline.now
        try body()
        return Double(Deadline.now.nanos - start.nanos) / 1e9
    }

    @Test func theStarsComeFromTheDatabaseThroughReviews() throws {
        let server = try MariaDBProcess()
        let ratings = try ratings(server)
        let http = HTTPClient()
        #expect(
            try http.get(ratings.baseURL + "/ratings/0", timeout: 10).bodyText
                == #"{"id":0,"ratings":{"Reviewer1":5,"Reviewer2":4}}"#)
        #expect(try http.get(ratings.baseURL + "/ready", timeout: 10).status == .ok)
        _ = try admin(server).query("UPDATE ratings SET Rating = 1 WHERE ReviewID = 1", deadline: .after(seconds: 5))
        #expect(
            try http.get(ratings.baseURL + "/ratings/3", timeout: 10).bodyText
                == #"{"id":3,"ratings":{"Reviewer1":1,"Reviewer2":4}}"#)

        let reviews = try ServiceProcess(
            "reviews",
            [
                "SERVICE_VERSION": "v3", "ENABLE_RATINGS": "true", "STAR_COLOR": "red", "RATINGS_HOSTNAME": "127.0.0.1",
                "RATINGS_SERVICE_PORT": String(ratings.port),
            ])
        let page = try http.get(reviews.baseURL + "/reviews/0", timeout: 10).bodyText
        #expect(page.contains(#""rating": {"stars": 1, "color": "red"}"#), "\(page)")
        #expect(page.contains(#""rating": {"stars": 4, "color": "red"}"#), "\(page)")

        // As the original: POST is not implemented for the database-backed version; bad input is still a 400.
        let post = try http.request(
            .post, ratings.baseURL + "/ratings/0", body: Array(#"{"Reviewer1":3}"#.utf8), timeout: 10)
        #expect(post.status.code == 501 && post.bodyText.contains("Post not implemented for database backed ratings"))
        #expect(
            try http.request(.post, ratings.baseURL + "/ratings/0", body: Array("{".utf8), timeout: 10).status
                == .badRequest)
        #expect(try http.get(ratings.baseURL + "/ratings/x", timeout: 10).status == .badRequest)
        // A missing row reads 0 and a NULL rating null, as the original's JSON does.
        _ = try admin(server).query("UPDATE ratings SET Rating = NULL WHERE ReviewID = 1", deadline: .after(seconds: 5))
        _ = try admin(server).query("DELETE FROM ratings WHERE ReviewID = 2", deadline: .after(seconds: 5))
        #expect(
            try http.get(ratings.baseURL + "/ratings/0", timeout: 10).bodyText
                == #"{"id":0,"ratings":{"Reviewer1":null,"Reviewer2":0}}"#)
        #expect(!ratings.log.contains(MariaDBProcess.password), "the password is never printed")
        #expect(ratings.log.contains(#""MYSQL_DB_PASSWORD":"set""#))
    }

    @Test func concurrentRequestsShareThePool() throws {
        let server = try MariaDBProcess()
        let ratings = try ratings(server, ["MYSQL_POOL_SIZE": "2"])
        let failures = Lock<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            let http = HTTPClient()
            for i in 0..<25 {
                let response = try? http.get(ratings.baseURL + "/ratings/\(worker * 100 + i)", timeout: 10)
                if response?.status != .ok || response?.bodyText.contains(#""Reviewer1":5"#) != true {
                    failures.withLock { $0.append(response?.bodyText ?? "no answer") }
                }
            }
        }
        let failed = failures.withLock { $0 }
        #expect(failed.isEmpty, "\(failed.count) failed, first: \(failed.first ?? "")")
        let connections = try admin(server).query(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE User = 'root'", deadline: .after(seconds: 5))
        #expect(Int(connections.rows.first?.first.flatMap { $0 } ?? "") ?? 99 <= 3, "ratings' 2 and this one")
    }

    @Test func aStoppedDatabaseIsAFast503ThenHealsWithoutARestart() throws {
        let server = try MariaDBProcess()
        let ratings = try ratings(server)
        let http = HTTPClient()
        #expect(try http.get(ratings.baseURL + "/ratings/0", timeout: 10).status == .ok)
        server.stop()
        var down: ClientResponse?
        let elapsed = try seconds { down = try http.get(ratings.baseURL + "/ratings/0", timeout: 10) }
        #expect(down?.status == .serviceUnavailable)
        #expect(down?.bodyText.contains("ratings database mysql://127.0.0.1:\(server.port)/test unavailable") == true)
        #expect(elapsed < 1.5, "answered in \(elapsed) s")
        let ready = try http.get(ratings.baseURL + "/ready", timeout: 10)
        #expect(ready.status == .serviceUnavailable && ready.bodyText.contains("127.0.0.1:\(server.port)"))
        try server.start()
        #expect(
            try http.get(ratings.baseURL + "/ratings/0", timeout: 10).status == .ok,
            "the first request after the restart")
        #expect(try http.get(ratings.baseURL + "/ready", timeout: 10).status == .ok)
        #expect(ratings.process.isRunning)
    }

    @Test func aMissingTableOrAWrongPasswordIs503NamingTheServersError() throws {
        let server = try MariaDBProcess()
        let wrong = try ratings(server, ["MYSQL_DB_PASSWORD": "not-the-password"])
        let http = HTTPClient()
        let denied = try http.get(wrong.baseURL + "/ratings/0", timeout: 10)
        #expect(denied.status == .serviceUnavailable && denied.bodyText.contains("1045"), "\(denied.bodyText)")
        #expect(try http.get(wrong.baseURL + "/ready", timeout: 10).status == .serviceUnavailable)
        #expect(!wrong.log.contains("not-the-password"))

        let ratings = try ratings(server)
        _ = try admin(server).query("RENAME TABLE ratings TO ratings_gone", deadline: .after(seconds: 5))
        let missing = try http.get(ratings.baseURL + "/ratings/0", timeout: 10)
        #expect(missing.status == .serviceUnavailable)
        #expect(missing.bodyText.contains("server error 1146 (42S02): Table 'test.ratings' doesn't exist"))
        #expect(try http.get(ratings.baseURL + "/ready", timeout: 10).status == .ok, "the database itself answers")
        _ = try admin(server).query("RENAME TABLE ratings_gone TO ratings", deadline: .after(seconds: 5))
        #expect(try http.get(ratings.baseURL + "/ratings/0", timeout: 10).status == .ok)
    }

    @Test func aDatabaseThatNeverAnswersIs503AtTheTimeout() throws {
        let silent = try Listener(host: "127.0.0.1", port: 0)
        defer { silent.shutdown() }
        let ratings = try ServiceProcess(
            "ratings",
            [
                "SERVICE_VERSION": "v2", "DB_TYPE": "mysql", "MYSQL_DB_HOST": "127.0.0.1",
                "MYSQL_DB_PORT": String(silent.port), "MYSQL_DB_TIMEOUT": "500ms",
            ], readyPath: "/health")
        var response: ClientResponse?
        let elapsed = try seconds { response = try HTTPClient().get(ratings.baseURL + "/ratings/0", timeout: 10) }
        #expect(response?.status == .serviceUnavailable)
        #expect(response?.bodyText.contains("timed out waiting for the handshake") == true)
        #expect(elapsed >= 0.45 && elapsed < 2.5, "answered in \(elapsed) s")
    }

    @Test func v2WithoutMySQLStopsWithExit2SayingWhy() throws {
        let (status, output) = try ServiceProcess.run("ratings", ["SERVICE_VERSION": "v2"])
        #expect(status == 2)
        #expect(output.contains("configuration error: DB_TYPE must be mysql for SERVICE_VERSION=v2"))
        #expect(output.contains("does not speak"))
        let (badPort, portOutput) = try ServiceProcess.run(
            "ratings", ["SERVICE_VERSION": "v2", "DB_TYPE": "mysql", "MYSQL_POOL_SIZE": "0"])
        #expect(badPort == 2 && portOutput.contains("MYSQL_POOL_SIZE"))
    }
}
