#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import Synchronization

/// An epoll loop serving many connections on one thread: it reads, parses, answers non-blocking routes inline,
/// hands blocking ones to the worker pool, writes, and enforces the timeouts.
final class EventLoop: @unchecked Sendable {
    private let core: ServerCore
    private let epoll: Epoll
    private let inbox = Mutex<[Connection]>([])
    private var connections: [UInt64: Connection] = [:]
    /// Owned by this loop for its lifetime: a constant pointer, so reading into it needs no exclusivity check.
    private let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
    private var lastSweep = monotonicNanos()
    private let client: LoopClient
    let finished = Atomic<Bool>(false)
    /// Connections this loop holds, and those of them with a request in progress: the rest are idle.
    let held = Atomic<Int>(0)
    let busy = Atomic<Int>(0)
    /// New connections on their way to this loop that will each close one of its idle connections.
    private let evictions = Atomic<Int>(0)

    init(core: ServerCore) throws {
        self.core = core
        epoll = try Epoll()
        client = LoopClient(epoll: epoll, configuration: core.client.configuration) { [core] in
            core.outbound.add($0, ordering: .relaxed)
        }
    }

    deinit { readBuffer.deallocate() }

    /// Hands a new connection, or one a worker has finished with, to this loop.
    func submit(_ connection: Connection) {
        inbox.withLock { $0.append(connection) }
        epoll.wake()
    }

    func wake() { epoll.wake() }

    /// Idle connections not yet promised to a newcomer; the counts may be a moment old, and the loop checks again.
    var spareConnections: Int {
        held.load(ordering: .relaxed) - busy.load(ordering: .relaxed) - evictions.load(ordering: .relaxed)
    }

    /// Called by the accept thread only: the next connection it submits with `evicts` takes an idle one's place.
    func reserveEviction() { evictions.add(1, ordering: .relaxed) }

    func run() {
        var events = [UInt8](repeating: 0, count: 256 * 16)
        while true {
            events.withUnsafeMutableBytes { buffer in
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
                    connection.drained = false
                    if flags & Epoll.readHangUp != 0 { connection.peerSentFIN = true }
                    // While a worker has it, only note that something happened; the worker hands it back.
                    if connection.owner.load(ordering: .acquiring) != .loop {
                        let (noted, now) = connection.owner.compareExchange(
                            expected: .worker, desired: .workerWithPendingEvent, ordering: .acquiringAndReleasing)
                        // Not noted and back with the loop: the worker released it just now, so handle the event here.
                        if noted || now != .loop { return }
                    }
                    if flags & (Epoll.readHangUp | Epoll.hangUp | Epoll.error) != 0, flags & Epoll.readable == 0 {
                        connection.peerClosed = true
                    }
                    drive(connection)
                }
            }
            for connection in inbox.withLock({ box -> [Connection] in
                defer { box.removeAll() }; return box
            }) {
                if connections[connection.token] == nil {
                    if connection.evicts {
                        evictions.subtract(1, ordering: .relaxed)
                        connection.evicts = false
                        if !evictOldestIdle() {
                            core.open.subtract(1, ordering: .relaxed)
                            core.refuse(connection.socket, .serviceUnavailable, "too many connections")
                            continue
                        }
                    }
                    connections[connection.token] = connection
                    held.add(1, ordering: .relaxed)
                    epoll.add(
                        connection.socket.fd, token: connection.token,
                        events: Epoll.readable | Epoll.writable | Epoll.readHangUp | Epoll.edgeTriggered)
                } else {
                    connection.owner.store(.loop, ordering: .releasing)
                    connection.phase = .reading
                }
                connection.drained = false
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

    private enum ReadResult { case data, wouldBlock, end, failed }

    private func read(_ connection: Connection) -> ReadResult {
        if connection.drained { return .wouldBlock }
        let fd = connection.socket.fd
        let count = recv(fd, readBuffer.baseAddress, readBuffer.count, Int32(MSG_DONTWAIT))
        if count > 0 {
            // A FIN that came with the data raises no further event: read on until recv answers 0.
            connection.drained = count < readBuffer.count && !connection.peerSentFIN
            connection.parser.append(UnsafeRawBufferPointer(rebasing: readBuffer[0..<count]))
            connection.lastActivity = monotonicNanos()
            connection.receivedAny = true
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

    /// Moves a connection forward as far as it can go without blocking.
    private func drive(_ connection: Connection) {
        while true {
            if case .closed = connection.phase { return }
            if connection.hasPendingOutput, !flush(connection) { return }
            if case .closed = connection.phase { return }
            if connection.responding { markIdle(connection) }
            if connection.closeAfterFlush {
                if connection.lingerAfterFlush {
                    connection.socket.shutdownWrite()
                    connection.closeAfterFlush = false
                    connection.phase = .lingering(.after(seconds: 1))
                } else {
                    close(connection)
                    return
                }
            }
            switch connection.phase {
            case .working, .closed:
                return
            case .lingering:
                // Drop what the client still sends until it closes, at most 1 MiB at a time (the sweep ends it
                // after a second).
                var dropped = 0
                while true {
                    let count = recv(
                        connection.socket.fd, readBuffer.baseAddress, readBuffer.count, Int32(MSG_DONTWAIT))
                    dropped += max(count, 0)
                    if count > 0, dropped <= 1 << 20 { continue }
                    if count < 0, errno == EAGAIN || errno == EINTR { return }
                    close(connection)
                    return
                }
            case .reading:
                break
            }
            switch connection.parser.next() {
            case .request(var request):
                markBusy(connection)
                request.remoteAddress = connection.peer
                let reply: Reply
                if core.offload(&request) {
                    let request = request
                    reply = .blocking { [core] in try core.handler(request) }
                } else {
                    reply = Reply.catching { try core.handler(request) }
                }
                guard proceed(connection, request, reply) else { return }
            case .expectContinue:
                connection.queue(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
            case .error(let error):
                reject(connection, error.status, error.description)
            case .needMore:
                let idle = connection.parser.isIdle
                if idle, core.isDraining {
                    // A request that already arrived is still answered (with Connection: close); then close.
                    connection.drained = false
                    if read(connection) == .data { continue }
                    close(connection)
                    return
                }
                if !idle {
                    let configuration = core.configuration
                    if connection.requestDeadline == nil {
                        markBusy(connection)
                        connection.requestDeadline = .after(seconds: configuration.headerTimeout)
                    }
                    if connection.parser.isReadingBody, !connection.readingBody {
                        connection.readingBody = true
                        connection.requestDeadline = .after(seconds: configuration.bodyTimeout)
                    }
                }
                if connection.peerClosed {
                    close(connection)
                    return
                }
                switch read(connection) {
                case .data: continue
                case .wouldBlock: return
                case .end, .failed:
                    close(connection)
                    return
                }
            }
        }
    }

    /// Carries a reply one step: a response is queued (true: go on driving); calls are started and the
    /// connection waits for them, or the rest goes to a worker (false).
    private func proceed(_ connection: Connection, _ request: Request, _ reply: Reply) -> Bool {
        switch reply {
        case .response(let response):
            core.queue(response, for: request, on: connection)
            return true
        case .calls(let calls, let then):
            connection.phase = .working
            client.start(calls) { [self] results in
                let next = Reply.catching { try then(results) }
                // A client that left meanwhile gets nothing, but its request is still logged and counted.
                guard case .working = connection.phase else { return }
                connection.phase = .reading
                if proceed(connection, request, next) { drive(connection) }
            }
            return false
        case .blocking(let work):
            connection.phase = .working
            connection.owner.store(.worker, ordering: .releasing)
            core.pool.submit { [self, core] in
                core.queue(Reply.catching(work).resolved(with: core.client), for: request, on: connection)
                if !finishOnWorker(connection) { submit(connection) }
            }
            return false
        }
    }

    /// On the worker that answered: writes the response and, when nothing else is left to do, gives the
    /// connection back to the loop without waking it. False when the loop must take over (a partial write, a
    /// pipelined request already buffered, a close, or an event that came in meanwhile).
    private func finishOnWorker(_ connection: Connection) -> Bool {
        guard !connection.closeAfterFlush, connection.parser.bufferedByteCount == 0, connection.writePending() == .done
        else {
            return false
        }
        markIdle(connection)
        connection.phase = .reading
        let (released, _) = connection.owner.compareExchange(
            expected: .worker, desired: .loop, ordering: .acquiringAndReleasing)
        return released
    }

    private func markBusy(_ connection: Connection) {
        if !connection.busy {
            connection.busy = true
            busy.add(1, ordering: .relaxed)
        }
    }

    /// The request is over (answered, or the connection closed): no deadline, not counted in flight.
    private func markIdle(_ connection: Connection) {
        connection.responding = false
        guard connection.busy else { return }
        connection.busy = false
        connection.requestDeadline = nil
        connection.readingBody = false
        busy.subtract(1, ordering: .relaxed)
    }

    private func reject(_ connection: Connection, _ status: HTTPStatus, _ reason: String) {
        connection.queue(MessageWriter.errorReply(status, message: reason))
        connection.responding = true
        connection.closeAfterFlush = true
        connection.lingerAfterFlush = true
        core.onReject(status, reason)
    }

    /// Closes the idle connection that has waited longest, to make room at the connection limit; false if none is.
    private func evictOldestIdle() -> Bool {
        var oldest: Connection?
        for connection in connections.values
        where connection.isIdle && connection.owner.load(ordering: .acquiring) == .loop {
            if oldest.map({ connection.lastActivity < $0.lastActivity }) ?? true { oldest = connection }
        }
        guard let oldest else { return false }
        close(oldest)
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
            switch connection.phase {
            case .working, .closed:
                continue
            case .lingering(let deadline):
                if deadline.hasPassed { close(connection) }
                continue
            case .reading:
                break
            }
            if let blocked = connection.writeBlockedSince, nanos(since: blocked, now: now) > writeNanos {
                close(connection)
            } else if connection.isIdle, draining {
                drive(connection)
            } else if connection.isIdle, !connection.receivedAny,
                nanos(since: connection.lastActivity, now: now) > firstNanos
            {
                close(connection)
            } else if connection.isIdle, nanos(since: connection.lastActivity, now: now) > idleNanos {
                close(connection)
            } else if let deadline = connection.requestDeadline, !connection.hasPendingOutput, deadline.hasPassed {
                reject(
                    connection, .requestTimeout,
                    connection.readingBody ? "request body not received in time" : "request head not received in time")
                drive(connection)
            }
        }
    }

    private func close(_ connection: Connection) {
        if case .closed = connection.phase { return }
        connection.phase = .closed
        markIdle(connection)
        connections.removeValue(forKey: connection.token)
        held.subtract(1, ordering: .relaxed)
        epoll.remove(connection.socket.fd)
        connection.socket.close()
        core.open.subtract(1, ordering: .relaxed)
    }
}
