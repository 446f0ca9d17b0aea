import HTTPKit
import SystemKit
/// The settings every service shares: listening, limits, timeouts, the client and logging.
public enum ServerSettings {
    public static let table: [Setting] = [
        port,
        httpServerHost,
        httpServerEventLoops,
        httpServerScheduling,
        httpServerMaxConnections,
        httpServerMaxRequestLineBytes,
        httpServerMaxHeaderBytes,
        httpServerMaxHeaderCount,
        httpServerMaxBodyBytes,
        httpServerHeaderTimeout,
        httpServerBodyTimeout,
        httpServerFirstRequestTimeout,
        httpServerIdleTimeout,
        httpServerWriteTimeout,
        shutdownTimeout,
        shutdownDelay,
        httpClientKeepAlives,
        httpClientMaxIdlePerHost,
        httpClientConnectTimeout,
        logRequests,
    ]

    public static let port = Setting(
        "PORT", "9080", "Port to listen on; a first argument or --port overrides it", .port)
    public static let httpServerHost = Setting(
        "HTTP_SERVER_HOST", "::", "Address to listen on; :: is dual-stack (IPv6 and IPv4)", .address)
    public static let httpServerEventLoops = Setting(
        "HTTP_SERVER_EVENT_LOOPS", "",
        "Event-loop threads; empty: one per usable CPU when routes call upstreams, one fewer (left to the "
            + "sidecar) otherwise",
        .optional(.integer(1...64)))
    public static let httpServerScheduling = Setting(
        "HTTP_SERVER_SCHEDULING", "normal",
        "Linux scheduling policy of the server's threads: normal (as started), or batch (a woken loop does not "
            + "preempt)",
        .oneOf(SchedulingPolicy.allCases.map(\.rawValue)))
    public static let httpServerMaxConnections = Setting(
        "HTTP_SERVER_MAX_CONNECTIONS", "4096",
        "Open connections at once; at the limit the oldest idle one is closed for a new one, and with none idle "
            + "the new one gets 503",
        .integer(1...1_000_000))
    public static let httpServerMaxRequestLineBytes = Setting(
        "HTTP_SERVER_MAX_REQUEST_LINE_BYTES", "65536", "Longest request line; longer is 414 (Envoy's 60 KiB fits)",
        .integer(64...1_048_576))
    public static let httpServerMaxHeaderBytes = Setting(
        "HTTP_SERVER_MAX_HEADER_BYTES", "98304",
        "Largest request head; larger is 431 (above Envoy's 60 KiB and what proxies add)",
        .integer(256...1_048_576))
    public static let httpServerMaxHeaderCount = Setting(
        "HTTP_SERVER_MAX_HEADER_COUNT", "150",
        "Most header fields in a request; more is 431 (above Envoy's 100 and what proxies add)",
        .integer(1...10_000))
    public static let httpServerMaxBodyBytes = Setting(
        "HTTP_SERVER_MAX_BODY_BYTES", "1048576", "Largest request body; larger is 413, unread",
        .integer(0...1_073_741_824))
    public static let httpServerHeaderTimeout = Setting(
        "HTTP_SERVER_HEADER_TIMEOUT", "10s", "Time from a request's first byte to the end of its head; then 408",
        .duration)
    public static let httpServerBodyTimeout = Setting(
        "HTTP_SERVER_BODY_TIMEOUT", "30s", "Time to receive a request body; then 408", .duration)
    public static let httpServerFirstRequestTimeout = Setting(
        "HTTP_SERVER_FIRST_REQUEST_TIMEOUT", "65m",
        "Time a new connection may stay silent before its first request; above Envoy's 1h upstream idle timeout",
        .duration)
    public static let httpServerIdleTimeout = Setting(
        "HTTP_SERVER_IDLE_TIMEOUT", "65m", "Keep-alive idle time; above Envoy's 1h upstream default", .duration)
    public static let httpServerWriteTimeout = Setting(
        "HTTP_SERVER_WRITE_TIMEOUT", "30s", "Time one response write may block", .duration)
    public static let shutdownTimeout = Setting(
        "SHUTDOWN_TIMEOUT", "20s", "After SIGTERM, how long in-flight requests may finish", .duration)
    public static let shutdownDelay = Setting(
        "SHUTDOWN_DELAY", "0s",
        "After SIGTERM, how long to keep serving (/ready 503, Connection: close on each response) before closing",
        .duration)
    public static let httpClientKeepAlives = Setting(
        "HTTP_CLIENT_KEEP_ALIVES", "true", "Reuse outbound connections per host:port", .boolean)
    public static let httpClientMaxIdlePerHost = Setting(
        "HTTP_CLIENT_MAX_IDLE_PER_HOST", "128",
        "Idle outbound connections kept per host:port, in each event loop's pool and in the workers' shared one",
        .integer(0...10_000))
    public static let httpClientConnectTimeout = Setting(
        "HTTP_CLIENT_CONNECT_TIMEOUT", "2s", "Outbound connect timeout (also bounded by the call's deadline)",
        .duration)
    public static let logRequests = Setting("LOG_REQUESTS", "true", "Write one JSON line per request", .boolean)

    /// A service's own default for a shared setting, with the reason in its help; the kind stays the shared one's.
    public static func override(_ shared: Setting, _ defaultValue: String, _ help: String) -> Setting {
        Setting(shared.name, defaultValue, help, shared.kind)
    }

    /// The shared table with a service's own: a service entry named like a shared one replaces it in place (a
    /// different default for that service, with its reason in the help), the others follow.
    public static func table(with service: [Setting]) -> [Setting] {
        let replaced = table.map { shared in service.first { $0.name == shared.name } ?? shared }
        return replaced + service.filter { own in !table.contains { $0.name == own.name } }
    }

    /// The event loops for a setting: the number given; else, for a service whose routes call upstreams from the
    /// loops, every usable CPU (its loops mostly wait, and a request should not wait behind a loop that is
    /// preempted); for one that answers from memory, all CPUs but one, left to the sidecar (or, on a test machine,
    /// to the load generator), because a loop that must share its core is preempted for milliseconds at a time.
    public static func eventLoops(_ value: String, cpus: Int, callsUpstreams: Bool) -> Int {
        Int(value) ?? (callsUpstreams ? max(1, cpus) : max(1, cpus - 1))
    }

    public static func serverConfiguration(_ settings: Settings, callsUpstreams: Bool = false) -> ServerConfiguration {
        var configuration = ServerConfiguration()
        configuration.host = settings.string(ServerSettings.httpServerHost)
        configuration.port = settings.int(ServerSettings.port)
        configuration.maxConnections = settings.int(ServerSettings.httpServerMaxConnections)
        configuration.eventLoops = eventLoops(
            settings.string(ServerSettings.httpServerEventLoops), cpus: availableCPUs(), callsUpstreams: callsUpstreams)
        configuration.limits = ParserLimits(
            maxRequestLineBytes: settings.int(ServerSettings.httpServerMaxRequestLineBytes),
            maxHeaderBytes: settings.int(ServerSettings.httpServerMaxHeaderBytes),
            maxHeaderCount: settings.int(ServerSettings.httpServerMaxHeaderCount),
            maxBodyBytes: settings.int(ServerSettings.httpServerMaxBodyBytes)
        )
        configuration.headerTimeout = settings.seconds(ServerSettings.httpServerHeaderTimeout)
        configuration.bodyTimeout = settings.seconds(ServerSettings.httpServerBodyTimeout)
        configuration.idleTimeout = settings.seconds(ServerSettings.httpServerIdleTimeout)
        configuration.firstRequestTimeout = settings.seconds(ServerSettings.httpServerFirstRequestTimeout)
        configuration.writeTimeout = settings.seconds(ServerSettings.httpServerWriteTimeout)
        configuration.shutdownTimeout = settings.seconds(ServerSettings.shutdownTimeout)
        return configuration
    }

    public static func clientConfiguration(_ settings: Settings) -> ClientConfiguration {
        var configuration = ClientConfiguration()
        configuration.keepAlive = settings.bool(ServerSettings.httpClientKeepAlives)
        configuration.maxIdlePerHost = settings.int(ServerSettings.httpClientMaxIdlePerHost)
        configuration.connectTimeout = settings.seconds(ServerSettings.httpClientConnectTimeout)
        return configuration
    }
}
