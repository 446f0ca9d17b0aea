import HTTPKit
import MySQLKit
import ServiceKit
import SystemKit

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
        let version = settings.string(RatingsApp.serviceVersion)
        mode = FaultMode(serviceVersion: version)
        faultProbability = settings.number(RatingsApp.faultProbability)
        faultDelay = settings.seconds(RatingsApp.faultDelay)
        unavailablePeriod = settings.seconds(RatingsApp.unavailablePeriod)
        unhealthyPeriod = settings.seconds(RatingsApp.unhealthyPeriod)
        seed = UInt64(settings.string(RatingsApp.randSeed))
        storeMax = settings.int(RatingsApp.ratingsStoreMax)
        maxEntryBytes = settings.int(RatingsApp.ratingsMaxEntryBytes)
        databaseTimeout = settings.seconds(RatingsApp.mysqlDbTimeout)
        poolSize = settings.int(RatingsApp.mysqlPoolSize)
        let type = settings.string(RatingsApp.dbType)
        guard version == "v2" else { return }
        guard type == "mysql" else {
            throw SettingError(
                variable: RatingsApp.dbType.name,
                message: "must be mysql for SERVICE_VERSION=v2 (got \"\(type)\"): v2 without it reads MongoDB in the "
                    + "original, which this image does not speak; set DB_TYPE=mysql and MYSQL_DB_HOST, MYSQL_DB_PORT, "
                    + "MYSQL_DB_USER and MYSQL_DB_PASSWORD")
        }
        var database = MySQLConfiguration(
            host: settings.string(RatingsApp.mysqlDbHost), port: settings.int(RatingsApp.mysqlDbPort),
            user: settings.string(RatingsApp.mysqlDbUser), password: settings.string(RatingsApp.mysqlDbPassword),
            database: settings.string(RatingsApp.mysqlDbName))
        database.maxRows = 1000
        self.database = database
    }
}
