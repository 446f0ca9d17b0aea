#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import HTTPKit
import ServiceKit
import SystemKit

/// The ratings service: two reviewers' stars per product, posted ratings kept in memory, and fault modes.
enum RatingsApp {
    static let table: [Setting] = [
        serviceVersion,
        dbType,
        mysqlDbHost,
        mysqlDbPort,
        mysqlDbUser,
        mysqlDbPassword,
        mysqlDbName,
        mysqlDbTimeout,
        mysqlPoolSize,
        faultProbability,
        faultDelay,
        unavailablePeriod,
        unhealthyPeriod,
        randSeed,
        ratingsStoreMax,
        ratingsMaxEntryBytes,
    ]

    static let serviceVersion = Setting(
        "SERVICE_VERSION", "v1",
        "v1, v2 (ratings from MySQL, with DB_TYPE=mysql), or a fault mode: v-faulty, v-delayed, v-unavailable, v-unhealthy",
        .oneOf(FaultMode.versions))
    static let dbType = Setting(
        "DB_TYPE", "", "Database of v2: mysql (the original's other choice, MongoDB, is not supported)")
    static let mysqlDbHost = Setting("MYSQL_DB_HOST", "mysqldb", "MySQL or MariaDB host of v2")
    static let mysqlDbPort = Setting("MYSQL_DB_PORT", "3306", "Its port", .port)
    static let mysqlDbUser = Setting("MYSQL_DB_USER", "root", "User v2 logs in as (mysql_native_password)")
    static let mysqlDbPassword = Setting("MYSQL_DB_PASSWORD", "", "That user's password", secret: true)
    static let mysqlDbName = Setting("MYSQL_DB_NAME", "test", "Database holding the ratings table")
    static let mysqlDbTimeout = Setting(
        "MYSQL_DB_TIMEOUT", "1s", "Deadline of v2's database work per request: a free connection, login, query",
        .duration)
    static let mysqlPoolSize = Setting(
        "MYSQL_POOL_SIZE", "4", "Most connections v2 keeps open to the database", .integer(1...64))
    static let faultProbability = Setting(
        "FAULT_PROBABILITY", "0.5", "Share of requests v-faulty fails and v-delayed delays (0 to 1)",
        .decimal(0...1))
    static let faultDelay = Setting("FAULT_DELAY", "7s", "How long v-delayed waits", .duration)
    static let unavailablePeriod = Setting(
        "UNAVAILABLE_PERIOD", "60s", "v-unavailable switches between available and not every period", .duration)
    static let unhealthyPeriod = Setting(
        "UNHEALTHY_PERIOD", "15m", "v-unhealthy switches between healthy and not every period", .duration)
    static let randSeed = Setting(
        "RAND_SEED", "", "Seed of the fault random source; empty: from the clock", .optional(.integer(0...Int.max)))
    static let ratingsStoreMax = Setting(
        "RATINGS_STORE_MAX", "1000", "Product ids whose posted ratings are kept; more are refused with 507",
        .integer(0...1_000_000))
    static let ratingsMaxEntryBytes = Setting(
        "RATINGS_MAX_ENTRY_BYTES", "4096", "Largest posted ratings body; larger is 413", .integer(2...1_048_576))

    static let definition = ServiceRunner.Definition(
        name: "ratings", summary: "bookinfo ratings service", table: table, build: makeRouter
    )

    static let invalidID = "please provide numeric product ID"
    static let unavailable = HTTPError(.serviceUnavailable, "Service unavailable")

    static func makeRouter(_ context: ServiceContext) throws -> Router {
        let settings = try RatingsSettings(context.settings)
        if let database = settings.database {
            return databaseRouter(
                RatingsDatabase(
                    database, timeout: settings.databaseTimeout, poolSize: settings.poolSize, logger: context.logger),
                context: context)
        }
        let mode = settings.mode, probability = settings.faultProbability, delay = settings.faultDelay
        let random = SeededRandom(seed: settings.seed)
        let started = Deadline.now
        let unavailableClock = FaultClock(start: started, period: settings.unavailablePeriod)
        let unhealthyClock = FaultClock(start: started, period: settings.unhealthyPeriod)
        let store = RatingsStore(maxEntries: settings.storeMax)
        let maxEntryBytes = settings.maxEntryBytes

        var router = Router()
        router.get("/health", execution: .inline) { _ in
            if mode == .unhealthy, unhealthyClock.inFaultPhase {
                return .json(#"{"status":"Ratings is not healthy"}"#, status: .internalServerError)
            }
            return .json(#"{"status":"Ratings is healthy"}"#)
        }
        router.get("/ratings/:id", execution: mode == .delayed ? .blocking : .inline) { request in
            let id = try request.int32Parameter("id", message: invalidID)
            switch mode {
            case .faulty where random.chance(probability): throw unavailable
            case .unavailable where unavailableClock.inFaultPhase: throw unavailable
            case .unhealthy where unhealthyClock.inFaultPhase: throw unavailable
            case .delayed where random.chance(probability): usleep(UInt32(min(delay, 3600) * 1_000_000))
            default: break
            }
            return .json(ratings(for: id, store: store))
        }
        router.post("/ratings/:id", execution: .inline) { request in
            let id = try request.int32Parameter("id", message: invalidID)
            guard request.body.count <= maxEntryBytes else {
                throw HTTPError(
                    .contentTooLarge, "ratings JSON larger than \(maxEntryBytes) bytes (RATINGS_MAX_ENTRY_BYTES)")
            }
            guard let ratings = try? JSON.parse(request.body) else {
                throw HTTPError(.badRequest, "please provide valid ratings JSON")
            }
            do {
                try store.put(id, ratings)
            } catch {
                throw HTTPError(
                    HTTPStatus(code: 507), "ratings store is full (\(store.maxEntries) product ids, RATINGS_STORE_MAX)")
            }
            return .json(.object([("id", .int(id)), ("ratings", ratings)]))
        }
        return router
    }

    /// v2: the ratings from the database, POST not implemented (as the original), /ready asking the database.
    static func databaseRouter(_ database: RatingsDatabase, context: ServiceContext) -> Router {
        var router = Router()
        router.get("/ratings/:id", execution: .blocking) { request in
            .json(try database.ratings(for: try request.int32Parameter("id", message: invalidID)))
        }
        router.post("/ratings/:id", execution: .inline) { request in
            _ = try request.int32Parameter("id", message: invalidID)
            guard (try? JSON.parse(request.body)) != nil else {
                throw HTTPError(.badRequest, "please provide valid ratings JSON")
            }
            throw HTTPError(.notImplemented, "Post not implemented for database backed ratings")
        }
        router.get("/ready", execution: .blocking) { _ in
            if context.isShuttingDown {
                return .json(#"{"status":"not ready","reason":"shutting down"}"#, status: .serviceUnavailable)
            }
            return database.readiness()
        }
        return router
    }

    static func ratings(for id: Int, store: RatingsStore) -> JSON {
        let ratings = store.get(id) ?? .object([("Reviewer1", .int(5)), ("Reviewer2", .int(4))])
        return .object([("id", .int(id)), ("ratings", ratings)])
    }
}
