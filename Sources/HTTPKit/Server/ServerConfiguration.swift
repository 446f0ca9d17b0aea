import SystemKit
/// How the server listens, what it accepts and how long it waits.
public struct ServerConfiguration: Sendable {
    /// `::` listens dual-stack (IPv6 and IPv4-mapped); `0.0.0.0`, `127.0.0.1` or `::1` narrow it.
    public var host: String = "::"
    /// 0 picks a free port; read it back from `HTTPServer.port`.
    public var port: Int = 9080
    public var limits = ParserLimits()
    /// Open connections at once. At the limit a new connection takes the place of the oldest idle one (a
    /// keep-alive connection between requests, or one that has not sent a byte); with none idle it is answered
    /// 503 and closed.
    public var maxConnections: Int = 4096
    /// How long a new connection may stay silent before its first request starts; then it is closed. A proxy opens
    /// connections it may not use at once, so the services set it above Envoy's upstream idle timeout, as the
    /// idle timeout; silent clients are also bounded by `maxConnections`, which closes the oldest idle one first.
    public var firstRequestTimeout: Double = 5
    /// From the first byte of a request to the end of its head (slow-client protection); then 408.
    public var headerTimeout: Double = 10
    /// From the end of the head to the end of the body; then 408.
    public var bodyTimeout: Double = 30
    /// How long a keep-alive connection may wait for its next request. Longer than Envoy's default upstream
    /// idle timeout (1 h), so a sidecar never reuses a connection the server has just closed.
    public var idleTimeout: Double = 3900
    /// How long one response write may block on a client that does not read.
    public var writeTimeout: Double = 30
    /// How long in-flight requests may run after SIGTERM before the process exits anyway.
    public var shutdownTimeout: Double = 20
    /// At shutdown, how long a connection accepted just before the listener closed may take to send its first
    /// request (a proxy sends it right after connecting); then it is closed.
    public var shutdownFirstRequestGrace: Double = 1
    public var listenBacklog: Int32 = 1024
    /// Event-loop threads reading and writing connections; handlers that block run on a separate worker pool.
    public var eventLoops: Int = 2

    public init() {}
}
