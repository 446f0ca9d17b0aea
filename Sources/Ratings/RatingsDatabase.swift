import HTTPKit
import MySQLKit
import ServiceKit
import SystemKit

/// v2's source of ratings: the first two rows of `SELECT Rating FROM ratings`, through a small connection pool.
struct RatingsDatabase: Sendable {
    static let query = "SELECT Rating FROM ratings"
    let pool: MySQLPool
    let timeout: Double
    let logger: Logger

    init(_ configuration: MySQLConfiguration, timeout: Double, poolSize: Int, logger: Logger) {
        pool = MySQLPool(configuration, size: poolSize)
        self.timeout = timeout
        self.logger = logger
    }

    var endpoint: String { pool.configuration.endpoint }

    /// The two reviewers' stars as the original reads them: a missing row is 0, a NULL rating null.
    func ratings(for id: Int) throws(HTTPError) -> JSON {
        let result: ResultSet
        do {
            result = try pool.query(Self.query, timeout: timeout)
        } catch {
            logger.warning("ratings database \(endpoint): \(error)", [("event", .string("database"))])
            throw HTTPError(.serviceUnavailable, "ratings database \(endpoint) unavailable: \(error)")
        }
        func stars(_ row: Int) -> JSON {
            guard row < result.rows.count else { return .int(0) }
            guard let text = result.value("Rating", row: row) else { return .null }
            return Int(text).map { .int($0) } ?? .null
        }
        return .object([("id", .int(id)), ("ratings", .object([("Reviewer1", stars(0)), ("Reviewer2", stars(1))]))])
    }

    /// 200 when the database answers a ping within the timeout, else 503 naming it and why.
    func readiness() -> Response {
        do {
            try pool.ping(timeout: timeout)
            return .json(#"{"status":"ready"}"#)
        } catch {
            let body = JSON.object([
                ("status", .string("not ready")), ("reason", .string("database \(endpoint): \(error)")),
            ])
            return .json(body, status: .serviceUnavailable)
        }
    }
}
