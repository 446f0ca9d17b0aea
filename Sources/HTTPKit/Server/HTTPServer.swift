#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import Synchronization

/// Answers one parsed request. It never throws: errors are already responses.
public typealias Responder = @Sendable (Request) -> Response

/// An HTTP/1.1 server on plain sockets: one accept thread and one thread per connection, each reading requests,
/// answering them in order, and keeping the connection open by the RFC 9112 rules.
public final class HTTPServer: Sendable {
    public let configuration: ServerConfiguration
    private let responder: Responder
    private let onReject: @Sendable (HTTPStatus, String) -> Void
    private let listener: Mutex<Listener?> = Mutex(nil)
    private let connections = ConnectionRegistry()
    private let boundPort = Atomic<Int>(0)
    private let acceptLoopDone = Atomic<Bool>(false)

    /// - Parameters:
    ///   - onReject: called for every request answered by the server itself (parse errors, limits, timeouts,
    ///     connection limit) with the status and a reason, for logs and metrics.
    public init(
        configuration: ServerConfiguration, responder: @escaping Responder,
        onReject: @escaping @Sendable (HTTPStatus, String) -> Void = { _, _ in }
    ) {
        self.configuration = configuration
        self.responder = responder
        self.onReject = onReject
    }

    /// The bound port, once started.
    public var port: Int { boundPort.load(ordering: .acquiring) }
    public var openConnections: Int { connections.count }
    public var inFlightRequests: Int { connections.inFlight }
    public var isDraining: Bool { connections.isDraining }

    /// Binds and starts accepting on a background thread.
    public func start() throws {
        signal(SIGPIPE, SIG_IGN)
        let listener = try Listener(host: configuration.host, port: configuration.port, backlog: configuration.listenBacklog)
        self.listener.withLock { $0 = listener }
        boundPort.store(listener.port, ordering: .releasing)
        startThread(stackSize: 256 * 1024) { [self] in acceptLoop(listener) }
    }

    /// Stops accepting, closes idle connections, lets in-flight requests finish until `timeout` passes.
    /// Returns true when every connection finished in time.
    @discardableResult
    public func shutdown(timeout: Double? = nil) -> Bool {
        let deadline = Deadline.after(seconds: timeout ?? configuration.shutdownTimeout)
        listener.withLock { $0?.shutdown() }
        connections.beginDrain()
        while connections.count > 0, !deadline.hasPassed { usleep(5_000) }
        let clean = connections.count == 0
        if !clean { connections.closeAll() }
        let acceptDeadline = Deadline.after(seconds: 1)
        while !acceptLoopDone.load(ordering: .acquiring), !acceptDeadline.hasPassed { usleep(1_000) }
        listener.withLock { $0?.socket.close() }
        return clean
    }

    private func acceptLoop(_ listener: Listener) {
        defer { acceptLoopDone.store(true, ordering: .releasing) }
        while true {
            guard let (socket, peer) = try? listener.accept() else { return }
            guard let entry = connections.register(socket, limit: configuration.maxConnections) else {
                reject(socket, .serviceUnavailable, connections.isDraining ? "server is shutting down" : "too many connections")
                continue
            }
            let started = startThread(stackSize: 512 * 1024) { [self] in
                serve(socket, peer: peer, entry: entry)
                connections.remove(entry)
                socket.close()
            }
            if !started {
                connections.remove(entry)
                reject(socket, .serviceUnavailable, "cannot start a connection thread")
            }
        }
    }

    private func reject(_ socket: Socket, _ status: HTTPStatus, _ reason: String) {
        socket.setTimeouts(receive: nil, send: 1)
        try? socket.send(MessageWriter.errorReply(status, message: reason))
        socket.close()
        onReject(status, reason)
    }

    /// Reads and drops what the client is still sending (up to 1 MiB or 1 s) so that closing does not reset the
    /// connection before the client has read the error reply.
    private func discardUnreadInput(_ socket: Socket, buffer: inout [UInt8]) {
        let deadline = Deadline.after(seconds: 1)
        var total = 0
        while total < 1 << 20 {
            let count = (try? buffer.withUnsafeMutableBytes { try socket.receive(into: $0, until: deadline) }) ?? 0
            if count <= 0 { return }
            total += count
        }
    }

    private func serve(_ socket: Socket, peer: String, entry: ConnectionEntry) {
        let config = configuration
        socket.setNoDelay()
        socket.setTimeouts(receive: config.idleTimeout, send: config.writeTimeout)
        var parser = RequestParser(limits: config.limits)
        var readBuffer = [UInt8](repeating: 0, count: 16 * 1024)
        var requestDeadline: Deadline?
        var readingBody = false

        func fail(_ status: HTTPStatus, _ reason: String) {
            try? socket.send(MessageWriter.errorReply(status, message: reason))
            socket.shutdownWrite()
            onReject(status, reason)
            discardUnreadInput(socket, buffer: &readBuffer)
        }

        while true {
            switch parser.next() {
            case .needMore:
                let idle = parser.isIdle
                if idle, connections.isDraining { return }
                if !idle, requestDeadline == nil {
                    requestDeadline = .after(seconds: config.headerTimeout)
                    connections.setBusy(entry, true)
                }
                if !idle, parser.isReadingBody, !readingBody {
                    readingBody = true
                    requestDeadline = .after(seconds: config.bodyTimeout)
                }
                let count: Int
                do {
                    count = try readBuffer.withUnsafeMutableBytes { buffer in
                        if let deadline = requestDeadline { return try socket.receive(into: buffer, until: deadline) }
                        return try socket.receive(into: buffer)
                    }
                } catch SocketError.timedOut {
                    if !idle { fail(.requestTimeout, readingBody ? "request body not received in time" : "request head not received in time") }
                    return
                } catch {
                    return
                }
                if count == 0 { return }
                readBuffer.withUnsafeBytes { parser.append(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            case .expectContinue:
                do { try socket.send(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)) } catch { return }
            case .error(let error):
                fail(error.status, error.description)
                return
            case .request(var request):
                connections.setBusy(entry, true)
                request.remoteAddress = peer
                let response = responder(request)
                let keepAlive = request.keepAlive && !connections.isDraining
                let bytes: [UInt8]
                do {
                    bytes = try MessageWriter.response(response, version: request.version, keepAlive: keepAlive, isHead: request.method == .head)
                } catch {
                    fail(.internalServerError, "the handler produced an invalid header: \(error)")
                    return
                }
                do { try socket.send(bytes) } catch { return }
                requestDeadline = nil
                readingBody = false
                connections.setBusy(entry, false)
                if !keepAlive {
                    socket.shutdownWrite()
                    return
                }
            }
        }
    }
}
