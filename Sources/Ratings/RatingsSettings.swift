import HTTPKit
import MySQLKit

/// ratings' settings, read once at start-up.
struct RatingsSettings: Sendable {
    var mode: FaultMode
    var faultProbability: Double
    var faultDelay: Double
    var unavailablePeriod: Double
    var unhealthyPeriod: Double
    /// The fault random source's seed; nil: from the clock.
    var seed: UInt64?
    var storeMax: Int
    var maxEntryBytes: Int
    /// v2's database; nil for every other version.
    var database: MySQLConfiguration?
    var databaseTimeout: Double
    var poolSize: Int

    init(_ settings: Settings) throws {
        let version = settings.string("SERVICE_VERSION")
        mode = FaultMode(serviceVersion: version)
        faultProbability = settings.number("FAULT_PROBABILITY")
        faultDelay = settings.seconds("FAULT_DELAY")
        unavailablePeriod = settings.seconds("UNAVAILABLE_PERIOD")
        unhealthyPeriod = settings.seconds("UNHEALTHY_PERIOD")
        seed = UInt64(settings.string("RAND_SEED"))
        storeMax = settings.int("RATINGS_STORE_MAX")
        maxEntryBytes = settings.int("RATINGS_MAX_ENTRY_BYTES")
        databaseTimeout = settings.seconds("MYSQL_DB_TIMEOUT")
        poolSize = settings.int("MYSQL_POOL_SIZE")
        let type = settings.string("DB_TYPE")
        guard version == "v2" else { return }
        guard type == "mysql" else {
            throw SettingError(
                variable: "DB_TYPE",
                message: "must be mysql for SERVICE_VERSION=v2 (got \"\(type)\"): v2 without it reads MongoDB in the "
                    + "original, which this image does not speak; set DB_TYPE=mysql and MYSQL_DB_HOST, MYSQL_DB_PORT, "
                    + "MYSQL_DB_USER and MYSQL_DB_PASSWORD")
        }
        var database = MySQLConfiguration(
            host: settings.string("MYSQL_DB_HOST"), port: settings.int("MYSQL_DB_PORT"),
            user: settings.string("MYSQL_DB_USER"), password: settings.string("MYSQL_DB_PASSWORD"),
            database: settings.string("MYSQL_DB_NAME"))
        database.maxRows = 1000
        self.database = database
    }
}
