#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import Synchronization
import SystemKit

/// An HTTP/1.1 server on plain sockets: an accept thread, a few epoll loops that read, parse and write every
/// connection without blocking, and a worker pool for handlers that block (see `Router` execution).
public final class HTTPServer: Sendable {
    public let configuration: ServerConfiguration
    private let core: ServerCore
    private let listener: Lock<Listener?> = Lock(nil)
    private let loops: Lock<[EventLoop]> = Lock([])
    private let boundPort = Atomic<Int>(0)
    private let acceptLoopDone = Atomic<Bool>(false)
    private let nextToken = Atomic<UInt64>(1)

    /// A server whose handler answers each request with a response, where `execution` says; a thrown `HTTPError`
    /// is its response, any other error a 500.
    /// - Parameters:
    ///   - execution: `.blocking` (the default, always safe) runs the handler on the worker pool; `.inline` on the
    ///     event loop, for a handler that never blocks.
    ///   - onReject: called for every request answered by the server itself (parse errors, limits, timeouts,
    ///     connection limit) with the status and a reason, for logs and metrics.
    public convenience init(
        configuration: ServerConfiguration, execution: Router.Execution = .blocking, handler: @escaping Handler,
        onReject: @escaping @Sendable (HTTPStatus, String) -> Void = { _, _ in }
    ) {
        self.init(
            configuration: configuration, responder: HandlerResponder(execution: execution, handler: handler),
            onReject: onReject)
    }

    /// A server that asks `responder` once per request where and how it is answered (a `Router`, say); answers
    /// may call upstreams: the loops make those calls themselves, with `client`'s configuration; replies finished on
    /// a worker use `client` itself.
    public init(
        configuration: ServerConfiguration, client: HTTPClient = .shared, responder: some Responder,
        onReject: @escaping @Sendable (HTTPStatus, String) -> Void = { _, _ in }
    ) {
        self.configuration = configuration
        core = ServerCore(configuration: configuration, client: client, responder: responder, onReject: onReject)
    }

    /// The bound port, once started.
    public var port: Int { boundPort.load(ordering: .acquiring) }
    public var openConnections: Int { core.open.load(ordering: .relaxed) }
    public var inFlightRequests: Int { loops.withLock { $0 }.reduce(0) { $0 + $1.busy.load(ordering: .relaxed) } }
    /// Connections the event loops hold to upstreams for replies' calls, busy or pooled.
    public var outboundConnections: Int { core.outbound.load(ordering: .relaxed) }

    /// Binds and starts the loops and the accept thread.
    public func start() throws {
        signal(SIGPIPE, SIG_IGN)
        let listener: Listener
        do {
            listener = try Listener(
                host: configuration.host, port: configuration.port, backlog: configuration.listenBacklog)
        } catch SocketError.system(_, let code)
            where configuration.host == "::" && (code == EAFNOSUPPORT || code == EADDRNOTAVAIL)
        {
            // A kernel or pod without IPv6: the dual-stack default falls back to IPv4.
            listener = try Listener(host: "0.0.0.0", port: configuration.port, backlog: configuration.listenBacklog)
        }
        let loops = try (0..<max(1, configuration.eventLoops)).map { _ in try EventLoop(core: core) }
        self.listener.withLock { $0 = listener }
        self.loops.withLock { $0 = loops }
        boundPort.store(listener.port, ordering: .releasing)
        for loop in loops { startThread(stackSize: 1024 * 1024) { loop.run() } }
        startThread(stackSize: 256 * 1024) { [self] in acceptLoop(listener, loops) }
    }

    /// From now on every response carries `Connection: close` and its connection closes after it, while new
    /// connections are still accepted: a proxy pooling connections to this server stops reusing them before
    /// `shutdown` closes the listener, instead of sending on a connection the server is closing.
    public func closeConnectionsAfterResponses() {
        core.closingAfterResponses.store(true, ordering: .relaxed)
    }

    /// Stops accepting, closes idle connections, lets in-flight requests finish until `timeout` passes.
    /// Returns true when every connection finished in time.
    @discardableResult
    public func shutdown(timeout: Double? = nil) -> Bool {
        let deadline = Deadline.after(seconds: timeout ?? configuration.shutdownTimeout)
        core.drainingSince.store(monotonicNanos(), ordering: .relaxed)
        core.draining.store(true, ordering: .sequentiallyConsistent)
        // Connections the kernel has completed but the accept thread not yet taken would be reset when the listener
        // closes: let it take them first (it still serves what it accepts while draining), for at most 100 ms.
        let backlogDeadline = Deadline.after(seconds: 0.1)
        while listener.withLock({ $0?.hasPending ?? false }), !backlogDeadline.hasPassed { usleep(200) }
        listener.withLock { $0?.shutdown() }
        let loops = self.loops.withLock { $0 }
        for loop in loops { loop.wake() }
        while openConnections > 0, !deadline.hasPassed { usleep(2_000) }
        let clean = openConnections == 0
        if !clean {
            core.forceClose.store(true, ordering: .sequentiallyConsistent)
            for loop in loops { loop.wake() }
        }
        core.stopping.store(true, ordering: .sequentiallyConsistent)
        for loop in loops { loop.wake() }
        let stopDeadline = Deadline.after(seconds: 1)
        while !stopDeadline.hasPassed,
            !(loops.allSatisfy { $0.finished.load(ordering: .acquiring) } && acceptLoopDone.load(ordering: .acquiring))
        {
            usleep(1_000)
        }
        listener.withLock { $0?.socket.close() }
        return clean
    }

    private func acceptLoop(_ listener: Listener, _ loops: [EventLoop]) {
        defer { acceptLoopDone.store(true, ordering: .releasing) }
        var next = 0
        while true {
            guard let (socket, peer) = try? listener.accept(nonBlocking: true) else { return }
            var loop = loops[next % loops.count]
            next &+= 1
            let atLimit = core.open.load(ordering: .relaxed) >= configuration.maxConnections
            if atLimit {
                // Room is made by closing the oldest idle connection of the loop with the most of them.
                guard let roomiest = loops.max(by: { $0.spareConnections < $1.spareConnections }),
                    roomiest.spareConnections > 0
                else {
                    core.refuse(socket, .serviceUnavailable, "too many connections")
                    continue
                }
                loop = roomiest
                loop.reserveEviction()
            }
            core.open.add(1, ordering: .relaxed)
            socket.setNoDelay()
            let connection = Connection(
                socket: socket, peer: peer, token: nextToken.add(1, ordering: .relaxed).newValue,
                limits: configuration.limits)
            loop.submit(connection, evicts: atLimit)
        }
    }
}

/// One handler for every request, run where `execution` says.
struct HandlerResponder: Responder {
    let execution: Router.Execution
    let handler: Handler

    func route(_ request: consuming Request) -> Router.Routed {
        let handler = self.handler
        return Router.Routed(
            execution: execution, route: nil, routeIndex: nil, request: request,
            handler: { .response(try handler($0)) }, middleware: [])
    }
}
