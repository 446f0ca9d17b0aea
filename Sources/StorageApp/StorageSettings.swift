import HTTPKit
import ServiceKit
import SystemKit

/// The storage app's settings, read once at start-up.
struct StorageSettings: Sendable {
    var endpointURLs: [String]
    var api: String
    /// For one operation, retries and failover included.
    var timeout: Double
    var limits: StorageApp.KeyLimits

    init(_ settings: Settings) throws {
        endpointURLs = settings.list(StorageApp.etcdEndpoints)
        guard !endpointURLs.isEmpty else {
            throw SettingError(variable: StorageApp.etcdEndpoints.name, message: "must name at least one URL")
        }
        api = settings.string(StorageApp.etcdApi)
        timeout = max(0.1, settings.seconds(StorageApp.etcdTimeout))
        limits = StorageApp.KeyLimits(
            maxKey: settings.int(StorageApp.storageMaxKeyBytes), maxValue: settings.int(StorageApp.storageMaxValueBytes)
        )
    }
}
