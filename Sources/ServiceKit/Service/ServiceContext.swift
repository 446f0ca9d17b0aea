#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import Synchronization
import HTTPKit
import SystemKit

/// What a service's router builder gets: its settings, logger, metrics, outbound client and readiness.
public final class ServiceContext: Sendable {
    public let name: String
    public let version: String
    public let settings: Settings
    public let logger: Logger
    public let metrics: MetricsRegistry
    public let client: HTTPClient
    private let clientRequests: Counter
    private let clientDuration: Histogram
    private let shuttingDown = Atomic<Bool>(false)

    /// `build` is the program's own version (`--version`); `version` the deployment's (`SERVICE_VERSION`).
    public init(name: String, version: String, build: String = "dev", settings: Settings, logger: Logger? = nil) {
        self.name = name
        self.version = version
        self.settings = settings
        self.logger =
            logger ?? Logger(service: name, version: version, logsRequests: settings.bool(ServerSettings.logRequests))
        metrics = MetricsRegistry()
        metrics.info(
            "service_info", "The service, its version and its build",
            labels: [("app", name), ("version", version), ("build", build)])
        ProcessMetrics.register(in: metrics)
        client = HTTPClient(configuration: ServerSettings.clientConfiguration(settings))
        clientRequests = metrics.counter(
            "http_client_requests_total", "Outbound requests by upstream and result", labels: ["upstream", "code"])
        clientDuration = metrics.histogram(
            "http_client_request_duration_seconds", "Outbound request duration", labels: ["upstream"])
    }

    /// Settings for tests: the table with these overrides.
    public convenience init(testing name: String, table: [Setting], environment: [String: String] = [:]) throws {
        let settings = try Settings(table: ServerSettings.table(with: table), environment: environment)
        self.init(name: name, version: "test", settings: settings, logger: .discarding(service: name))
    }

    /// An upstream at `http://host:port`, built from `setting`; anything else is a configuration error naming it.
    public func upstream(_ name: String, baseURL: String, setting: String) throws -> Upstream {
        guard let base = try? HTTPClient.URL(baseURL), base.target == "/", !baseURL.hasSuffix("/") else {
            throw SettingError(variable: setting, message: "must give an http://host:port address (got \"\(baseURL)\")")
        }
        return Upstream(
            name: name, baseURL: baseURL, base: base, client: client,
            metrics: UpstreamMetrics(name: name, requests: clientRequests, duration: clientDuration))
    }

    /// SIGTERM has come: `/ready` answers 503 while the server still serves (the server's own draining, which
    /// closes the listener, starts when `SHUTDOWN_DELAY` ends).
    public var isShuttingDown: Bool { shuttingDown.load(ordering: .relaxed) }
    func beginShutdown() { shuttingDown.store(true, ordering: .relaxed) }

}
