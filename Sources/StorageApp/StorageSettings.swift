import HTTPKit

/// The storage app's settings, read once at start-up.
struct StorageSettings: Sendable {
    var endpointURLs: [String]
    var api: String
    /// For one operation, retries and failover included.
    var timeout: Double
    var limits: StorageApp.KeyLimits

    init(_ settings: Settings) throws {
        endpointURLs = settings.list("ETCD_ENDPOINTS")
        guard !endpointURLs.isEmpty else {
            throw SettingError(variable: "ETCD_ENDPOINTS", message: "must name at least one URL")
        }
        api = settings.string("ETCD_API")
        timeout = max(0.1, settings.seconds("ETCD_TIMEOUT"))
        limits = StorageApp.KeyLimits(
            maxKey: settings.int("STORAGE_MAX_KEY_BYTES"), maxValue: settings.int("STORAGE_MAX_VALUE_BYTES"))
    }
}
