import Foundation
import HTTPKit
@testable import MySQLKit
import TestSupport
import Testing
import SystemKit
import ServiceKit

/// MySQLKit against a real MariaDB from Debian. In CI a missing MariaDB is a failure, not a skip.
let mariadbAvailable = MariaDBProcess.isInstalled || ProcessInfo.processInfo.environment["CI"] != nil

func configuration(_ server: MariaDBProcess, password: String = MariaDBProcess.password, user: String = "root")
    -> MySQLConfiguration
{
    MySQLConfiguration(host: "127.0.0.1", port: server.port, user: user, password: password, database: "test")
}

func admin(_ server: MariaDBProcess) throws -> MySQLConnection {
    try MySQLConnection(configuration(server), deadline: .after(seconds: 5))
}

@Suite(.serialized, .enabled(if: mariadbAvailable, "MariaDB is not installed (scripts/test.sh installs it)"))
struct MariaDBTests {
    @Test func queriesReadRowsNullsAndErrorsInBothResultSetForms() throws {
        let server = try MariaDBProcess()
        for deprecateEOF in [true, false] {
            var settings = configuration(server)
            settings.deprecateEOF = deprecateEOF
            let connection = try MySQLConnection(settings, deadline: .after(seconds: 5))
            #expect(connection.capabilities.contains(.deprecateEOF) == deprecateEOF)
            #expect(connection.handshake.serverVersion.contains("MariaDB"))
            let ratings = try connection.query("SELECT Rating FROM ratings", deadline: .after(seconds: 5))
            #expect(ratings == ResultSet(columns: ["Rating"], rows: [["5"], ["4"]]))
            let mixed = try connection.query(
                "SELECT NULL AS n, 'it''s' AS s, 1.5 AS d, REPEAT('ab', 40000) AS big", deadline: .after(seconds: 5))
            #expect(mixed.columns == ["n", "s", "d", "big"])
            #expect(mixed.rows.first?[0] == nil && mixed.rows.first?[1] == "it's" && mixed.rows.first?[2] == "1.5")
            #expect(mixed.rows.first?[3]?.count == 80_000)
            let empty = try connection.query(
                "SELECT Rating FROM ratings WHERE ReviewID = 99", deadline: .after(seconds: 5))
            #expect(empty.columns == ["Rating"] && empty.rows.isEmpty)
            #expect(try connection.query("DO 1", deadline: .after(seconds: 5)) == ResultSet(columns: [], rows: []))
            #expect(
                throws: MySQLError.server(code: 1146, state: "42S02", message: "Table 'test.missing' doesn't exist")
            ) {
                try connection.query("SELECT * FROM missing", deadline: .after(seconds: 5))
            }
            #expect(throws: MySQLError.self) { try connection.query("SELEKT 1", deadline: .after(seconds: 5)) }
            // An ERR answer leaves the connection usable.
            try connection.ping(deadline: .after(seconds: 5))
            #expect(try connection.query("SELECT 7", deadline: .after(seconds: 5)).rows == [["7"]])
            connection.close()
        }
    }

    @Test func loginFailuresNameTheServersErrorOrThePlugin() throws {
        let server = try MariaDBProcess()
        #expect {
            try MySQLConnection(configuration(server, password: "wrong"), deadline: .after(seconds: 5))
        } throws: { error in
            guard case MySQLError.server(1045, "28000", let message) = error else { return false }
            return message.contains("Access denied for user 'root'")
        }
        var unknown = configuration(server)
        unknown.database = "nope"
        #expect {
            try MySQLConnection(unknown, deadline: .after(seconds: 5))
        } throws: { error in
            if case MySQLError.server(1049, _, _) = error { return true }
            return false
        }
        // A user of MariaDB's ed25519 plugin: the server switches the client to client_ed25519.
        let root = try admin(server)
        _ = try root.query("INSTALL SONAME 'auth_ed25519'", deadline: .after(seconds: 5))
        _ = try root.query(
            "CREATE USER edwards@'%' IDENTIFIED VIA ed25519 USING PASSWORD('secret')", deadline: .after(seconds: 5))
        _ = try root.query("GRANT SELECT ON test.* TO edwards@'%'", deadline: .after(seconds: 5))
        #expect(throws: MySQLError.unsupportedAuthentication("client_ed25519")) {
            try MySQLConnection(
                configuration(server, password: "secret", user: "edwards"), deadline: .after(seconds: 5))
        }
        // A user without a password logs in with an empty scramble.
        _ = try root.query("CREATE USER nopass@'%'", deadline: .after(seconds: 5))
        _ = try root.query("GRANT SELECT ON test.* TO nopass@'%'", deadline: .after(seconds: 5))
        let nopass = try MySQLConnection(
            configuration(server, password: "", user: "nopass"), deadline: .after(seconds: 5))
        #expect(try nopass.query("SELECT CURRENT_USER()", deadline: .after(seconds: 5)).rows == [["nopass@%"]])
    }

    @Test func closeSaysQuitAndTheServerLetsTheSessionGo() throws {
        let server = try MariaDBProcess()
        let root = try admin(server)
        func sessions() throws -> Int {
            let result = try root.query(
                "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE User = 'root'", deadline: .after(seconds: 5))
            return Int(result.rows.first?.first.flatMap { $0 } ?? "") ?? -1
        }
        // A client that goes without COM_QUIT counts as aborted; one that says it does not.
        func aborted() throws -> String? {
            try root.query("SHOW GLOBAL STATUS LIKE 'Aborted_clients'", deadline: .after(seconds: 5)).rows.first?[1]
        }
        let before = try aborted()
        let other = try admin(server)
        #expect(try sessions() == 2)
        other.close()
        #expect(!other.isUsable)
        #expect(eventually(timeout: 5) { (try? sessions()) == 1 }, "the server's session ends")
        #expect(try aborted() == before)
        let dropped = try admin(server)
        dropped.socket.close()
        #expect(eventually(timeout: 5) { (try? aborted()) != before }, "without COM_QUIT the server counts an abort")
    }

    @Test func tooManyRowsBreakTheConnectionCleanly() throws {
        let server = try MariaDBProcess()
        var limited = configuration(server)
        limited.maxRows = 10
        let connection = try MySQLConnection(limited, deadline: .after(seconds: 5))
        #expect(throws: MySQLError.malformed("more than 10 rows")) {
            try connection.query("SELECT seq FROM seq_1_to_100", deadline: .after(seconds: 5))
        }
        #expect(!connection.isUsable)
        #expect(throws: MySQLError.connection("connection already failed")) {
            try connection.ping(deadline: .after(seconds: 1))
        }
    }

    @Test func thePoolSharesFewConnectionsAndOutlivesAServerRestart() throws {
        let server = try MariaDBProcess()
        let pool = MySQLPool(configuration(server), size: 3)
        let failures = Lock<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<40 {
                do {
                    let rows = try pool.query("SELECT Rating FROM ratings", timeout: 5).rows
                    if rows != [["5"], ["4"]] { failures.withLock { $0.append("rows \(rows)") } }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
        }
        let failed = failures.withLock { $0 }
        #expect(failed.isEmpty, "\(failed.prefix(3))")
        #expect(pool.connectionsOpened <= 3, "\(pool.connectionsOpened) connections for 320 queries")
        #expect(pool.idleCount == pool.connectionsOpened)

        server.stop()
        let start = Deadline.now
        #expect(throws: MySQLError.connection("connection refused")) { try pool.query("SELECT 1", timeout: 2) }
        #expect(Double(Deadline.now.nanos - start.nanos) / 1e9 < 1, "a stopped server is refused at once")
        try server.start()
        // The idle connections died with the old server; the pool replaces them without a failed query.
        #expect(try pool.query("SELECT Rating FROM ratings", timeout: 5).rows == [["5"], ["4"]])
        try pool.ping(timeout: 2)
    }

    @Test func aFullPoolMakesAWaiterTimeOutAtItsDeadline() throws {
        // A server that accepts and never speaks: every connection hangs in the handshake until its deadline.
        let silent = try Listener(host: "127.0.0.1", port: 0)
        defer { silent.shutdown() }
        let pool = MySQLPool(
            MySQLConfiguration(host: "127.0.0.1", port: silent.port, user: "root", password: "", database: "test"),
            size: 1)
        let start = Deadline.now
        #expect(throws: MySQLError.timedOut("waiting for the handshake")) { try pool.query("SELECT 1", timeout: 0.5) }
        let seconds = Double(Deadline.now.nanos - start.nanos) / 1e9
        #expect(seconds >= 0.45 && seconds < 2.5, "\(seconds) s")
    }
}
