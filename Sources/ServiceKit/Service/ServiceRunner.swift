#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import HTTPKit
import SystemKit

/// Runs a service process: settings, `--help`, start-up line, server, request logs and metrics, signals.
public enum ServiceRunner {
    public struct Definition: Sendable {
        public let name: String
        public let summary: String
        public let version: String
        public let table: [Setting]
        public let build: @Sendable (ServiceContext) throws -> Router

        public init(
            name: String, summary: String, version: String = "1.0.0", table: [Setting],
            build: @escaping @Sendable (ServiceContext) throws -> Router
        ) {
            self.name = name
            self.summary = summary
            self.version = version
            self.table = table
            self.build = build
        }
    }

    /// The whole life of the process; returns the exit status (0 after a clean shutdown, 2 for bad settings).
    /// Errors that stop it go to `errors` (standard error).
    public static func main(
        _ definition: Definition, arguments: [String], environment: [String: String],
        errors writeError: (String) -> Void = writeError
    ) -> Int32 {
        var blocked = sigset_t()
        sigemptyset(&blocked)
        sigaddset(&blocked, SIGTERM)
        sigaddset(&blocked, SIGINT)
        pthread_sigmask(SIG_BLOCK, &blocked, nil)
        signal(SIGPIPE, SIG_IGN)
        switch start(definition, arguments: arguments, environment: environment, errors: writeError) {
        case .finished(let status):
            return status
        case .serving(let server, let context):
            var signalNumber: Int32 = 0
            sigwait(&blocked, &signalNumber)
            drain(server, context, signal: signalNumber)
            return 0
        }
    }

    /// What `start` leaves: a server answering requests, or the exit status of a process that ends here.
    enum Start {
        case serving(HTTPServer, ServiceContext)
        case finished(Int32)
    }

    /// `--help`, `--version`, the settings (status 2 when one is wrong), the router, the listening server and the
    /// start-up line.
    static func start(
        _ definition: Definition, arguments: [String], environment: [String: String],
        errors writeError: (String) -> Void
    ) -> Start {
        let table = ServerSettings.table(with: definition.table)
        if arguments.contains("--help") || arguments.contains("-h") {
            print(
                Settings.helpText(service: definition.name, summary: definition.summary, table: table), terminator: "")
            return .finished(0)
        }
        if arguments.contains("--version") {
            print("\(definition.name) \(definition.version)")
            return .finished(0)
        }
        let settings: Settings
        do {
            settings = try Settings(table: table, environment: environment, arguments: arguments)
        } catch {
            writeError("\(definition.name): \(error)\nRun \(definition.name) --help for the settings.\n")
            return .finished(2)
        }
        // Before any thread starts, so that every thread of the process inherits the policy.
        let scheduling = SchedulingPolicy(rawValue: settings.string(ServerSettings.httpServerScheduling)) ?? .normal
        let schedulingRefused = scheduling == .normal ? nil : scheduling.apply()
        let context = ServiceContext(
            name: definition.name,
            version: settings.valueIfPresent("SERVICE_VERSION") ?? definition.version, build: definition.version,
            settings: settings)
        let router: Router
        do {
            router = try definition.build(context)
        } catch let error as SettingError {
            writeError("\(definition.name): \(error)\n")
            return .finished(2)
        } catch {
            writeError("\(definition.name): cannot start: \(error)\n")
            return .finished(1)
        }
        let server = makeServer(router: router, context: context)
        do {
            try server.start()
        } catch {
            writeError("\(definition.name): cannot listen: \(error)\n")
            return .finished(1)
        }
        if let schedulingRefused {
            context.logger.warning(
                "HTTP_SERVER_SCHEDULING=\(scheduling.rawValue) not applied (\(schedulingRefused)); running with the "
                    + "normal policy",
                [("event", .string("config"))])
        }
        context.logger.info(
            "listening on \(server.configuration.host):\(server.port)",
            [
                ("event", .string("start")), ("port", .int(server.port)),
                ("event_loops", .int(server.configuration.eventLoops)), ("config", settings.json),
            ])
        return .serving(server, context)
    }

    /// After SIGTERM or SIGINT: `/ready` at 503 and `Connection: close` on every response for `SHUTDOWN_DELAY`, then
    /// the listener closes and in-flight requests get `SHUTDOWN_TIMEOUT`.
    static func drain(_ server: HTTPServer, _ context: ServiceContext, signal signalNumber: Int32) {
        context.beginShutdown()
        server.closeConnectionsAfterResponses()
        context.logger.info(
            "received \(signalNumber == SIGTERM ? "SIGTERM" : "SIGINT"), draining", [("event", .string("drain"))])
        let delay = context.settings.seconds(ServerSettings.shutdownDelay)
        if delay > 0 { usleep(UInt32(min(delay, 3600) * 1_000_000)) }
        let clean = server.shutdown()
        context.logger.info(
            clean ? "stopped" : "stopped with requests cut off at the deadline", [("event", .string("stop"))])
        context.logger.flush()
    }

    /// The server with `/ready`, `/metrics` and a default `/health`, request logging and metrics around the router.
    public static func makeServer(router: Router, context: ServiceContext) -> HTTPServer {
        let configuration = ServerSettings.serverConfiguration(context.settings, callsUpstreams: router.callsUpstreams)
        let responder = makeResponder(router: router, context: context)
        let rejected = context.metrics.counter(
            "http_server_rejected_total", "Requests the server answered itself (parse errors, limits, timeouts)",
            labels: ["code"])
        let logger = context.logger
        let server = HTTPServer(
            configuration: configuration, client: context.client, responder: responder
        ) { status, reason in
            rejected.increment([String(status.code)])
            logger.warning("rejected: \(reason)", [("status", .int(status.code))])
        }
        context.metrics.gauge("http_server_open_connections", "Open client connections") {
            Double(server.openConnections)
        }
        context.metrics.gauge("http_server_requests_in_flight", "Requests being handled") {
            Double(server.inFlightRequests)
        }
        context.metrics.gauge("http_client_open_connections", "Connections held to upstreams by the event loops") {
            Double(server.outboundConnections)
        }
        return server
    }

    /// The router with the runtime routes, as a responder that logs and counts every request it answers.
    public static func makeResponder(router: Router, context: ServiceContext) -> ServiceResponder {
        var router = router
        if router.routePattern(for: "/health") == nil {
            router.get("/health", execution: .inline) { _ in .json("{\"status\":\"\(context.name) is healthy\"}") }
        }
        if router.routePattern(for: "/ready") == nil {
            router.get("/ready", execution: .inline) { _ in
                if context.isShuttingDown {
                    return .json(#"{"status":"not ready","reason":"shutting down"}"#, status: .serviceUnavailable)
                }
                return .json("{\"status\":\"ready\"}")
            }
        }
        let metrics = context.metrics
        if router.routePattern(for: "/metrics") == nil {
            router.get("/metrics", execution: .inline) { _ in
                Response(status: .ok, contentType: MetricsRegistry.contentType, body: metrics.render())
            }
        }
        return ServiceResponder(
            router: router, logger: context.logger,
            recorder: RequestMetrics(registry: metrics, routeCount: router.routeCount))
    }

    public static func writeError(_ text: String) {
        var bytes = Array(text.utf8)
        _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
    }
}
