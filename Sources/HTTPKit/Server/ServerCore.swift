#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import Synchronization
import SystemKit

/// Shared by the loops of one server.
final class ServerCore: Sendable {
    let configuration: ServerConfiguration
    /// Decides, once per request, where it is answered and what answers it.
    let responder: any Responder
    /// Makes the calls of replies that are finished on a worker.
    let client: HTTPClient
    let onReject: @Sendable (HTTPStatus, String) -> Void
    let pool: WorkerPool
    let open = Atomic<Int>(0)
    /// The most connections open since memory was last given back.
    private let openPeak = Atomic<Int>(0)
    /// Connections the loops hold to upstreams, busy or pooled.
    let outbound = Atomic<Int>(0)
    let draining = Atomic<Bool>(false)
    /// Set from SIGTERM until the shutdown: every response closes its connection, new ones are still accepted.
    let closingAfterResponses = Atomic<Bool>(false)
    let forceClose = Atomic<Bool>(false)
    let stopping = Atomic<Bool>(false)

    init(
        configuration: ServerConfiguration, client: HTTPClient, responder: any Responder,
        onReject: @escaping @Sendable (HTTPStatus, String) -> Void
    ) {
        self.configuration = configuration
        self.client = client
        self.responder = responder
        self.onReject = onReject
        pool = WorkerPool(maxThreads: configuration.maxConnections)
    }

    var isDraining: Bool { draining.load(ordering: .relaxed) }
    /// When the shutdown began (monotonic nanoseconds), for the grace of connections accepted just before it.
    let drainingSince = Atomic<UInt64>(0)
    var inShutdownGrace: Bool {
        nanos(since: drainingSince.load(ordering: .relaxed)) < UInt64(configuration.shutdownFirstRequestGrace * 1e9)
    }

    /// After a burst of connections has mostly closed, returns the heap memory they freed to the system: glibc
    /// keeps it otherwise, and a service that once held 2,000 connections would go on showing their 20 MB.
    func releaseMemoryAfterBurst() {
        let now = open.load(ordering: .relaxed)
        let peak = openPeak.load(ordering: .relaxed)
        if now > peak {
            openPeak.store(now, ordering: .relaxed)
        } else if Self.burstEnded(open: now, peak: peak),
            openPeak.compareExchange(expected: peak, desired: now, ordering: .relaxed).exchanged
        {
            releaseFreeHeapMemory()
        }
    }

    /// At least 256 connections fewer than the peak, and at most half of it.
    static func burstEnded(open: Int, peak: Int) -> Bool {
        peak - open >= 256 && open <= peak / 2
    }

    /// Answers a connection that will not be served with a canned error reply and closes it.
    func refuse(_ socket: Socket, _ status: HTTPStatus, _ reason: String) {
        socket.setTimeouts(receive: nil, send: 1)
        try? socket.send(MessageWriter.errorReply(status, message: reason))
        socket.shutdownWrite()
        socket.close()
        onReject(status, reason)
    }

    /// Queues the bytes of a response to `request` on the connection, honouring keep-alive, draining and HEAD;
    /// returns what follows once they are written.
    func queue(_ response: Response, for request: Request, on connection: Connection) -> Connection.AfterResponse {
        let keepAlive = request.keepAlive && !isDraining && !closingAfterResponses.load(ordering: .relaxed)
        do {
            try MessageWriter.withResponse(
                response, version: request.version, keepAlive: keepAlive, isHead: request.method == .head
            ) {
                connection.queue($0)
            }
            return keepAlive ? .keepAlive : .close
        } catch {
            onReject(.internalServerError, "the handler produced an invalid header: \(error)")
            connection.queue(MessageWriter.errorReply(.internalServerError, message: "invalid response header"))
            return .close
        }
    }
}
