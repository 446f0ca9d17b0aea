import HTTPKit

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

    init(_ settings: Settings) {
        mode = FaultMode(serviceVersion: settings.string("SERVICE_VERSION"))
        faultProbability = settings.number("FAULT_PROBABILITY")
        faultDelay = settings.seconds("FAULT_DELAY")
        unavailablePeriod = settings.seconds("UNAVAILABLE_PERIOD")
        unhealthyPeriod = settings.seconds("UNHEALTHY_PERIOD")
        seed = UInt64(settings.string("RAND_SEED"))
        storeMax = settings.int("RATINGS_STORE_MAX")
        maxEntryBytes = settings.int("RATINGS_MAX_ENTRY_BYTES")
    }
}
