import CLinux
#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import Synchronization
import SystemKit

/// An epoll loop serving many connections on one thread: it reads, parses, answers non-blocking routes inline,
/// hands blocking ones to the worker pool, writes, and enforces the timeouts.
final class EventLoop: @unchecked Sendable {
    private let core: ServerCore
    private let epoll: Epoll
    /// New connections (`evicts`: accepted at the connection limit) and those a worker has finished with.
    private let inbox = Lock<[(connection: Connection, evicts: Bool)]>([])
    private var connections: [UInt64: Connection] = [:]
    /// Owned by this loop for its lifetime: a constant pointer, so reading into it needs no exclusivity check.
    private let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
    private var lastSweep = monotonicNanos()
    private let client: LoopClient
    private let timeouts: (header: Double, body: Double)
    let finished = Atomic<Bool>(false)
    /// Connections this loop holds, and those of them with a request in progress: the rest are idle.
    let held = Atomic<Int>(0)
    let busy = Atomic<Int>(0)
    /// New connections on their way to this loop that will each close one of its idle connections.
    private let evictions = Atomic<Int>(0)

    init(core: ServerCore) throws {
        self.core = core
        timeouts = (core.configuration.headerTimeout, core.configuration.bodyTimeout)
        epoll = try Epoll()
        client = LoopClient(epoll: epoll, configuration: core.client.configuration) { [core] in
            core.outbound.add($0, ordering: .relaxed)
        }
    }

    deinit { readBuffer.deallocate() }

    /// Hands a new connection, or one a worker has finished with, to this loop. A new one that `evicts` takes
    /// the place of this loop's oldest idle connection, or is refused when none is idle.
    func submit(_ connection: Connection, evicts: Bool = false) {
        inbox.withLock { $0.append((connection, evicts)) }
        epoll.wake()
    }

    func wake() { epoll.wake() }

    /// Idle connections not yet promised to a newcomer; the counts may be a moment old, and the loop checks again.
    var spareConnections: Int {
        held.load(ordering: .relaxed) - busy.load(ordering: .relaxed) - evictions.load(ordering: .relaxed)
    }

    /// Called by the accept thread only, before it submits a connection that `evicts`.
    func reserveEviction() { evictions.add(1, ordering: .relaxed) }

    func run() {
        var events = [epoll_event](repeating: epoll_event(), count: Epoll.batch)
        while true {
            events.withUnsafeMutableBufferPointer { buffer in
                epoll.wait(
                    into: buffer, timeoutMilliseconds: client.waitMilliseconds(limit: 100, now: monotonicNanos())
                ) { token, flags in
                    if token == Epoll.wakeToken {
                        epoll.drainWakeups()
                        return
                    }
                    if token >= LoopClient.firstToken {
                        client.handle(token: token, flags: flags)
                        return
                    }
                    guard let connection = connections[token] else { return }
                    connection.noteEvent(flags)
                    // While a worker has it, only note that something happened; the worker hands it back.
                    if connection.owner.load(ordering: .acquiring) != .loop {
                        let (noted, now) = connection.owner.compareExchange(
                            expected: .worker, desired: .workerWithPendingEvent, ordering: .acquiringAndReleasing)
                        // Not noted and back with the loop: the worker released it just now, so handle the event here.
                        if noted || now != .loop { return }
                    }
                    connection.noteHangUp(flags)
                    drive(connection)
                }
            }
            let arrived = inbox.withLock { box -> [(connection: Connection, evicts: Bool)] in
                defer { box.removeAll() }
                return box
            }
            for (connection, evicts) in arrived {
                if connections[connection.token] == nil {
                    guard admit(connection, evicts: evicts) else { continue }
                } else {
                    connection.owner.store(.loop, ordering: .releasing)
                }
                connection.noteEvent(0)
                drive(connection)
            }
            client.runPosted()
            let now = monotonicNanos()
            client.expire(now: now)
            if nanos(since: lastSweep, now: now) >= 100_000_000 || core.isDraining {
                lastSweep = now
                sweep(now)
            }
            if core.stopping.load(ordering: .relaxed) {
                for connection in connections.values { close(connection) }
                client.closeAll()
                epoll.close()
                finished.store(true, ordering: .releasing)
                return
            }
        }
    }

    /// Registers a new connection; at the connection limit, first closes the oldest idle one (false: none was
    /// idle, so the newcomer is refused).
    private func admit(_ connection: Connection, evicts: Bool) -> Bool {
        if evicts {
            evictions.subtract(1, ordering: .relaxed)
            guard evictOldestIdle() else {
                core.open.subtract(1, ordering: .relaxed)
                core.refuse(connection.socket, .serviceUnavailable, "too many connections")
                return false
            }
        }
        connections[connection.token] = connection
        held.add(1, ordering: .relaxed)
        epoll.add(
            connection.socket.fd, token: connection.token,
            events: Epoll.readable | Epoll.writable | Epoll.readHangUp | Epoll.edgeTriggered)
        return true
    }

    /// Moves a connection to its next state, keeping the loop's count of requests in progress.
    private func move(_ connection: Connection, _ move: Connection.Move) {
        let before = connection.state
        // Only the moves that start a deadline or an idle wait read the clock.
        let now: UInt64
        switch move {
        case .partialRequest, .responseWritten: now = monotonicNanos()
        case .requestParsed, .responseQueued, .closed: now = 0
        }
        connection.state = Connection.after(before, move, now: now, timeouts: timeouts)
        let wasBusy = before.isBusy, isBusy = connection.state.isBusy
        if wasBusy != isBusy { busy.add(isBusy ? 1 : -1, ordering: .relaxed) }
    }

    private enum ReadResult { case data, wouldBlock, end, failed }

    private func read(_ connection: Connection) -> ReadResult {
        if connection.input == .empty { return .wouldBlock }
        let count = recv(connection.socket.fd, readBuffer.baseAddress, readBuffer.count, Int32(MSG_DONTWAIT))
        if count > 0 {
            if count < readBuffer.count, connection.input == .unread { connection.input = .empty }
            connection.parser.append(UnsafeRawBufferPointer(rebasing: readBuffer[0..<count]))
            return .data
        }
        if count == 0 { return .end }
        let code = errno
        if code == EAGAIN || code == EWOULDBLOCK || code == EINTR { return .wouldBlock }
        return .failed
    }

    /// Writes what is queued; false when the socket would block or the connection failed.
    private func flush(_ connection: Connection) -> Bool {
        switch connection.writePending() {
        case .done:
            connection.writeBlockedSince = nil
            return true
        case .wouldBlock:
            if connection.writeBlockedSince == nil { connection.writeBlockedSince = monotonicNanos() }
            return false
        case .failed:
            close(connection)
            return false
        }
    }

    /// Moves a connection forward as far as it can go without blocking: write what is queued, finish the
    /// response, then read and answer the next request.
    private func drive(_ connection: Connection) {
        while true {
            if connection.hasPendingOutput, !connection.isClosed, !flush(connection) { return }
            finishResponse(connection)
            switch connection.state {
            case .working, .responding, .closed:
                return
            case .lingering:
                dropInput(connection)
                return
            case .idle, .head, .body:
                guard answerNext(connection) else { return }
            }
        }
    }

    /// Once a response is written: keep the connection for the next request, close it, or linger.
    private func finishResponse(_ connection: Connection) {
        guard case .responding(let then) = connection.state, !connection.hasPendingOutput else { return }
        switch then {
        case .keepAlive:
            move(connection, .responseWritten)
        case .close:
            close(connection)
        case .linger:
            connection.socket.shutdownWrite()
            move(connection, .responseWritten)
        }
    }

    /// Drops what the client still sends until it closes, at most 1 MiB at a time; the sweep ends it after a
    /// second.
    private func dropInput(_ connection: Connection) {
        var dropped = 0
        while true {
            let count = recv(connection.socket.fd, readBuffer.baseAddress, readBuffer.count, Int32(MSG_DONTWAIT))
            dropped += max(count, 0)
            if count > 0, dropped <= 1 << 20 { continue }
            if count < 0, errno == EAGAIN || errno == EINTR { return }
            close(connection)
            return
        }
    }

    /// Takes the next step with what the parser holds: answer a request, send 100 Continue, reject a bad one, or
    /// read more. False when the connection must wait (for input, a handler or a worker) or was closed.
    private func answerNext(_ connection: Connection) -> Bool {
        switch connection.parser.next() {
        case .request(var request):
            move(connection, .requestParsed)
            request.remoteAddress = connection.peer
            let routed = core.responder.route(request)
            let reply =
                routed.execution == .blocking
                ? .blocking { [core] in core.responder.reply(to: routed) } : core.responder.reply(to: routed)
            return proceed(connection, routed.request, reply)
        case .expectContinue:
            connection.queue(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
            return true
        case .error(let error):
            reject(connection, error.status, error.description)
            return true
        case .needMore:
            return awaitInput(connection)
        }
    }

    /// The parser needs more bytes: note the partial request's deadline, then read.
    private func awaitInput(_ connection: Connection) -> Bool {
        let idle = connection.parser.isIdle
        if idle, core.isDraining {
            // A request that already arrived is still answered (with Connection: close); then close. A connection
            // accepted just before the listener closed gets a short grace for its first request, which a proxy
            // sends right after connecting: closing it first would reset that request.
            connection.noteEvent(0)
            switch read(connection) {
            case .data:
                return true
            case .wouldBlock where connection.isFresh && core.inShutdownGrace:
                return false
            default:
                close(connection)
                return false
            }
        }
        if !idle { move(connection, .partialRequest(inBody: connection.parser.isReadingBody)) }
        if connection.input == .gone {
            close(connection)
            return false
        }
        switch read(connection) {
        case .data:
            return true
        case .wouldBlock:
            return false
        case .end, .failed:
            close(connection)
            return false
        }
    }

    /// Carries a reply one step: a response is queued (true: go on driving); calls are started and the
    /// connection waits for them, or the rest goes to a worker (false).
    private func proceed(_ connection: Connection, _ request: Request, _ reply: Reply) -> Bool {
        switch reply {
        case .response(let response):
            move(connection, .responseQueued(then: core.queue(response, for: request, on: connection)))
            return true
        case .calls(let calls, let then):
            client.start(calls) { [self] results in
                let next = Reply.catching { try then(results) }
                // A client that left meanwhile gets nothing, but its request is still logged and counted.
                guard case .working = connection.state else { return }
                if proceed(connection, request, next) { drive(connection) }
            }
            return false
        case .blocking(let work):
            connection.owner.store(.worker, ordering: .releasing)
            core.pool.submit { [self, core] in
                let then = core.queue(Reply.catching(work).resolved(with: core.client), for: request, on: connection)
                move(connection, .responseQueued(then: then))
                if !finishOnWorker(connection) { submit(connection) }
            }
            return false
        }
    }

    /// On the worker that answered: writes the response and, when nothing else is left to do, gives the
    /// connection back to the loop without waking it. False when the loop must take over (a partial write, a
    /// pipelined request already buffered, a close, or an event that came in meanwhile).
    private func finishOnWorker(_ connection: Connection) -> Bool {
        guard case .responding(then: .keepAlive) = connection.state, connection.parser.bufferedByteCount == 0,
            connection.writePending() == .done
        else {
            return false
        }
        move(connection, .responseWritten)
        let (released, _) = connection.owner.compareExchange(
            expected: .worker, desired: .loop, ordering: .acquiringAndReleasing)
        return released
    }

    private func reject(_ connection: Connection, _ status: HTTPStatus, _ reason: String) {
        connection.queue(MessageWriter.errorReply(status, message: reason))
        move(connection, .responseQueued(then: .linger))
        core.onReject(status, reason)
    }

    /// Closes the idle connection that has waited longest, to make room at the connection limit; false if none is.
    private func evictOldestIdle() -> Bool {
        var oldest: (connection: Connection, since: UInt64)?
        for connection in connections.values
        where connection.isIdle && connection.owner.load(ordering: .acquiring) == .loop {
            guard case .idle(let since, _) = connection.state else { continue }
            if oldest.map({ since < $0.since }) ?? true { oldest = (connection, since) }
        }
        guard let oldest else { return false }
        close(oldest.connection)
        return true
    }

    private func sweep(_ now: UInt64) {
        core.releaseMemoryAfterBurst()
        let configuration = core.configuration
        let idleNanos = UInt64(configuration.idleTimeout * 1e9)
        let firstNanos = UInt64(configuration.firstRequestTimeout * 1e9)
        let writeNanos = UInt64(configuration.writeTimeout * 1e9)
        let force = core.forceClose.load(ordering: .relaxed)
        let draining = core.isDraining
        for connection in Array(connections.values) {
            guard connection.owner.load(ordering: .acquiring) == .loop else { continue }
            if force {
                close(connection)
                continue
            }
            if case .lingering(let deadline) = connection.state {
                if deadline.hasPassed { close(connection) }
                continue
            }
            if case .working = connection.state { continue }
            if let blocked = connection.writeBlockedSince, nanos(since: blocked, now: now) > writeNanos {
                close(connection)
                continue
            }
            switch connection.state {
            case .idle(let since, let fresh):
                guard connection.isIdle else { continue }
                if draining {
                    drive(connection)
                } else if nanos(since: since, now: now) > (fresh ? firstNanos : idleNanos) {
                    close(connection)
                }
            case .head(let deadline), .body(let deadline):
                guard !connection.hasPendingOutput, deadline.hasPassed else { continue }
                let body = if case .body = connection.state { true } else { false }
                reject(
                    connection, .requestTimeout,
                    body ? "request body not received in time" : "request head not received in time")
                drive(connection)
            case .working, .responding, .lingering, .closed:
                continue
            }
        }
    }

    private func close(_ connection: Connection) {
        if connection.isClosed { return }
        move(connection, .closed)
        connections.removeValue(forKey: connection.token)
        held.subtract(1, ordering: .relaxed)
        epoll.remove(connection.socket.fd)
        connection.socket.close()
        core.open.subtract(1, ordering: .relaxed)
    }
}
