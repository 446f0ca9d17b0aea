#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import Dispatch
import SystemKit

/// The outbound calls of one event loop: non-blocking sockets in the loop's own epoll, a keep-alive pool of its
/// own (no locks: only the loop touches it), and deadlines the loop checks between waits. It behaves like
/// `HTTPClient.perform`: the same errors, the same retry of a request that found its pooled connection closed.
final class LoopClient: @unchecked Sendable {
    typealias Completion = (Reply.Results) -> Void
    /// Tokens at or above this one are outbound sockets; lower ones are client connections.
    static let firstToken: UInt64 = 1 << 62

    /// Touched only on the loop's thread.
    private final class Batch: @unchecked Sendable {
        var results: [Result<ClientResponse, HTTPClientError>?]
        var remaining: Int
        let completion: Completion

        init(count: Int, completion: @escaping Completion) {
            results = Array(repeating: nil, count: count)
            remaining = count
            self.completion = completion
        }
    }

    private enum State { case idle, connecting, sending, receiving }

    /// One outbound connection, and the call it is carrying when not idle.
    private final class Exchange {
        let token: UInt64
        let socket: Socket
        let key: String
        var state = State.connecting
        var deadline: UInt64 = .max
        var call: HTTPClient.Call?
        var batch: Batch?
        var index = 0
        var output: [UInt8] = []
        var sent = 0
        var parser: ResponseParser
        var reused = false
        var receivedAny = false
        /// Addresses still to try while connecting.
        var fallbacks: ArraySlice<SocketAddress> = []

        init(token: UInt64, socket: Socket, key: String, parser: ResponseParser) {
            self.token = token
            self.socket = socket
            self.key = key
            self.parser = parser
        }
    }

    let configuration: ClientConfiguration
    private let epoll: Epoll
    private let count: @Sendable (Int) -> Void
    /// Work for the loop's thread from elsewhere (name lookups), run by `runPosted`.
    private let posted = Lock<[@Sendable () -> Void]>([])
    private var exchanges: [UInt64: Exchange] = [:]
    private var idle: [String: [Exchange]] = [:]
    private var nextToken = LoopClient.firstToken
    /// A constant pointer, so reading into it needs no exclusivity check.
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
    /// The earliest deadline of any exchange (a call's, a connect's, or an idle connection's expiry).
    private(set) var nextDeadline: UInt64 = .max

    /// - Parameter count: told +1 and -1 as connections open and close (the server's gauge).
    init(epoll: Epoll, configuration: ClientConfiguration, count: @escaping @Sendable (Int) -> Void) {
        self.epoll = epoll
        self.configuration = configuration
        self.count = count
    }

    deinit { buffer.deallocate() }

    private func post(_ task: @escaping @Sendable () -> Void) {
        posted.withLock { $0.append(task) }
        epoll.wake()
    }

    /// Runs what other threads posted; the loop calls it after each wait.
    func runPosted() {
        for task in posted.withLock({ tasks -> [@Sendable () -> Void] in
            defer { tasks.removeAll() }; return tasks
        }) { task() }
    }

    /// Starts every call; `completion` runs on the loop once each has a result (at once if all fail at once).
    func start(_ calls: [HTTPClient.Call], completion: @escaping Completion) {
        guard !calls.isEmpty else { return completion([]) }
        let batch = Batch(count: calls.count, completion: completion)
        for (index, call) in calls.enumerated() { begin(call, index: index, batch: batch, pooled: true) }
    }

    private func begin(_ call: HTTPClient.Call, index: Int, batch: Batch, pooled: Bool) {
        let bytes: [UInt8]
        do {
            bytes = try call.bytes(keepAlive: configuration.keepAlive)
        } catch {
            return finish(batch, index, .failure(error))
        }
        let key = call.poolKey
        if pooled, configuration.keepAlive, let exchange = idle[key]?.popLast() {
            assign(exchange, call, batch, index, bytes, reused: true)
            return send(exchange)
        }
        let host = call.url.host, port = call.url.port
        if let addresses = configuration.resolver.cached(host: host, port: port) {
            return connect(addresses[...], key: key, call, batch, index, bytes)
        }
        // Names are looked up off the loop; the loop goes on serving meanwhile.
        DispatchQueue.global().async { [self] in
            let outcome = Result { try configuration.resolver.resolve(host: host, port: port, deadline: call.deadline) }
            post { [self] in
                switch outcome {
                case .success(let addresses):
                    connect(addresses[...], key: key, call, batch, index, bytes)
                case .failure(let error):
                    let reason = error as? ConnectError ?? .other("\(error)")
                    finish(batch, index, .failure(HTTPClientError(reason, authority: call.url.authority)))
                }
            }
        }
    }

    private func assign(
        _ exchange: Exchange, _ call: HTTPClient.Call, _ batch: Batch, _ index: Int, _ bytes: [UInt8], reused: Bool
    ) {
        exchange.call = call
        exchange.batch = batch
        exchange.index = index
        exchange.output = bytes
        exchange.sent = 0
        exchange.reused = reused
        exchange.receivedAny = false
        // A pooled connection is only kept with nothing buffered, so its parser starts clean.
        exchange.parser.reset(requestWasHead: call.method == .head)
        exchange.state = .sending
        setDeadline(exchange, call.deadline.nanos)
    }

    private func connect(
        _ addresses: ArraySlice<SocketAddress>, key: String, _ call: HTTPClient.Call, _ batch: Batch, _ index: Int,
        _ bytes: [UInt8]
    ) {
        guard let address = addresses.first else {
            return finish(batch, index, .failure(.connectionRefused(call.url.authority)))
        }
        let socket: Socket, inProgress: Bool
        do {
            (socket, inProgress) = try Connector.startConnecting(address)
        } catch {
            if addresses.count > 1 { return connect(addresses.dropFirst(), key: key, call, batch, index, bytes) }
            return finish(batch, index, .failure(HTTPClientError(error, authority: call.url.authority)))
        }
        let exchange = Exchange(token: nextToken, socket: socket, key: key, parser: configuration.responseParser())
        nextToken += 1
        exchanges[exchange.token] = exchange
        count(1)
        epoll.add(
            socket.fd, token: exchange.token,
            events: Epoll.readable | Epoll.writable | Epoll.readHangUp | Epoll.edgeTriggered)
        assign(exchange, call, batch, index, bytes, reused: false)
        exchange.fallbacks = addresses.dropFirst()
        guard inProgress else { return send(exchange) }
        exchange.state = .connecting
        let connectBy = monotonicNanos() &+ UInt64(configuration.connectTimeout * 1e9)
        setDeadline(exchange, min(call.deadline.nanos, connectBy))
    }

    func handle(token: UInt64, flags: UInt32) {
        guard let exchange = exchanges[token] else { return }
        switch exchange.state {
        case .idle:
            // A pooled connection has nothing to say until asked: data or a hang-up means it is of no use now.
            var byte: UInt8 = 0
            if recv(exchange.socket.fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) < 0, errno == EAGAIN { return }
            discard(exchange)
        case .connecting:
            guard flags & (Epoll.writable | Epoll.error | Epoll.hangUp) != 0 else { return }
            if let error = Connector.pendingError(exchange.socket) {
                discard(exchange)
                guard let call = exchange.call, let batch = exchange.batch else { return }
                if !exchange.fallbacks.isEmpty {
                    return connect(exchange.fallbacks, key: exchange.key, call, batch, exchange.index, exchange.output)
                }
                return finish(batch, exchange.index, .failure(HTTPClientError(error, authority: call.url.authority)))
            }
            exchange.state = .sending
            setDeadline(exchange, exchange.call?.deadline.nanos ?? .max)
            send(exchange)
        case .sending:
            send(exchange)
        case .receiving:
            receive(exchange)
        }
    }

    /// Sends what is left of the request; the response is read when its bytes arrive.
    private func send(_ exchange: Exchange) {
        let fd = exchange.socket.fd
        while exchange.sent < exchange.output.count {
            let sent = exchange.output.withUnsafeBytes { raw in
                Glibc.send(
                    fd, raw.baseAddress! + exchange.sent, raw.count - exchange.sent, Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
            }
            if sent > 0 {
                exchange.sent += sent
                continue
            }
            let code = errno
            if sent < 0, code == EINTR { continue }
            if sent < 0, code == EAGAIN || code == EWOULDBLOCK { return }
            return ended(exchange)
        }
        exchange.state = .receiving
    }

    private func receive(_ exchange: Exchange) {
        let fd = exchange.socket.fd
        while true {
            let count = recv(fd, buffer.baseAddress, buffer.count, Int32(MSG_DONTWAIT))
            if count > 0 {
                exchange.receivedAny = true
                exchange.parser.append(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
                switch exchange.parser.next() {
                case .needMore:
                    continue
                case .error(let error):
                    discard(exchange)
                    return complete(exchange, .failure(.protocolError(error.description)))
                case .response(let response):
                    if configuration.mayPool(response, after: exchange.parser),
                        Self.append(exchange, to: &idle[exchange.key, default: []], limit: configuration.maxIdlePerHost)
                    {
                        exchange.state = .idle
                        exchange.output = []
                        setDeadline(exchange, monotonicNanos() &+ UInt64(configuration.idleTimeout * 1e9))
                    } else {
                        discard(exchange)
                    }
                    return complete(exchange, .success(response))
                }
            }
            let code = errno
            if count < 0, code == EAGAIN || code == EWOULDBLOCK { return }
            if count < 0, code == EINTR { continue }
            return ended(exchange)
        }
    }

    /// Adds the exchange to its host's idle list unless the list is full (one lookup of the list).
    private static func append(_ exchange: Exchange, to list: inout [Exchange], limit: Int) -> Bool {
        guard list.count < limit else { return false }
        list.append(exchange)
        return true
    }

    /// The connection ended (or failed) before the response was complete.
    private func ended(_ exchange: Exchange) {
        discard(exchange)
        guard let call = exchange.call, let batch = exchange.batch else { return }
        if call.retriesAfterStaleConnection(reused: exchange.reused, receivedAny: exchange.receivedAny) {
            exchange.call = nil
            return begin(call, index: exchange.index, batch: batch, pooled: false)
        }
        complete(exchange, exchange.parser.resultAtEnd(receivedAny: exchange.receivedAny, key: exchange.key))
    }

    private func complete(_ exchange: Exchange, _ result: Result<ClientResponse, HTTPClientError>) {
        guard let batch = exchange.batch else { return }
        exchange.call = nil
        exchange.batch = nil
        finish(batch, exchange.index, result)
    }

    private func finish(_ batch: Batch, _ index: Int, _ result: Result<ClientResponse, HTTPClientError>) {
        batch.results[index] = result
        batch.remaining -= 1
        if batch.remaining == 0 { batch.completion(batch.results.map { $0 ?? .failure(.protocolError("no result")) }) }
    }

    private func setDeadline(_ exchange: Exchange, _ nanos: UInt64) {
        exchange.deadline = nanos
        if nanos < nextDeadline { nextDeadline = nanos }
    }

    /// Fails calls whose deadline passed and closes pooled connections idle too long.
    func expire(now: UInt64) {
        guard now >= nextDeadline else { return }
        nextDeadline = .max
        for exchange in Array(exchanges.values) where exchanges[exchange.token] === exchange {
            guard exchange.deadline <= now else {
                nextDeadline = min(nextDeadline, exchange.deadline)
                continue
            }
            let connecting = exchange.state == .connecting
            discard(exchange)
            if let call = exchange.call {
                complete(exchange, .failure(.timedOut(connecting ? call.url.authority : exchange.key)))
            }
        }
    }

    /// Milliseconds the loop may sleep before a deadline here needs it, at most `limit`.
    func waitMilliseconds(limit: Int32, now: UInt64) -> Int32 {
        guard nextDeadline != .max else { return limit }
        guard nextDeadline > now else { return 0 }
        return Int32(min(UInt64(limit), (nextDeadline - now + 999_999) / 1_000_000))
    }

    private func discard(_ exchange: Exchange) {
        guard exchanges.removeValue(forKey: exchange.token) != nil else { return }
        count(-1)
        if exchange.state == .idle, let position = idle[exchange.key]?.firstIndex(where: { $0 === exchange }) {
            idle[exchange.key]?.remove(at: position)
        }
        epoll.remove(exchange.socket.fd)
        exchange.socket.close()
    }

    /// Closes every outbound connection; calls still waiting get no result.
    func closeAll() {
        for exchange in Array(exchanges.values) { discard(exchange) }
        idle = [:]
    }
}
