#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import Synchronization
import SystemKit

/// One client connection. It belongs to one thread at a time: its event loop, or a worker while a blocking
/// handler runs, which hands it back when the response is ready.
final class Connection: @unchecked Sendable {
    /// Who may touch the connection: its loop, or a worker (and whether the loop saw an event meanwhile).
    enum Owner: UInt8, AtomicRepresentable {
        case loop = 0
        case worker = 1
        case workerWithPendingEvent = 2
    }

    /// Where the connection is in its life. `after(_:now:timeouts:)` holds every move between the states.
    enum State: Equatable {
        /// Between requests since `since` (monotonic nanoseconds): a new connection (`fresh`), or one kept alive.
        case idle(since: UInt64, fresh: Bool)
        /// A request's head is arriving; 408 at `deadline`, which runs from its first byte.
        case head(deadline: Deadline)
        /// Its body is arriving; 408 at `deadline`, which runs from the end of the head.
        case body(deadline: Deadline)
        /// The request is parsed; its handler, its upstream calls or a worker have it.
        case working
        /// A response is queued; `then` says what follows once it is written.
        case responding(then: AfterResponse)
        /// After an error reply the write side is shut; input is dropped until the peer closes or `deadline`.
        case lingering(deadline: Deadline)
        case closed

        /// A request is under way: from its first byte until its response is written.
        var isBusy: Bool {
            switch self {
            case .head, .body, .working, .responding: return true
            case .idle, .lingering, .closed: return false
            }
        }
    }

    enum AfterResponse: Equatable {
        case keepAlive
        case close
        /// Shut the write side and drop what the client still sends for a second, so that it reads the reply
        /// before the connection is reset.
        case linger
    }

    /// What happens to a connection, as far as its state is concerned.
    enum Move: Equatable {
        /// Part of a request has arrived and the parser needs more; `inBody` once its head is complete.
        case partialRequest(inBody: Bool)
        case requestParsed
        case responseQueued(then: AfterResponse)
        case responseWritten
        case closed
    }

    /// The state after `move`; a move that makes no sense in a state leaves it as it is.
    static func after(
        _ state: State, _ move: Move, now: UInt64, timeouts: (header: Double, body: Double)
    ) -> State {
        func deadline(_ seconds: Double) -> Deadline { Deadline(nanos: now &+ UInt64(max(0, seconds) * 1e9)) }
        switch (state, move) {
        case (.closed, _): return .closed
        case (_, .closed): return .closed
        case (.idle, .partialRequest(inBody: false)): return .head(deadline: deadline(timeouts.header))
        case (.idle, .partialRequest(inBody: true)), (.head, .partialRequest(inBody: true)):
            return .body(deadline: deadline(timeouts.body))
        case (.idle, .requestParsed), (.head, .requestParsed), (.body, .requestParsed): return .working
        case (.lingering, .responseQueued): return state
        case (_, .responseQueued(let then)): return .responding(then: then)
        case (.responding(.keepAlive), .responseWritten): return .idle(since: now, fresh: false)
        case (.responding(.close), .responseWritten): return .closed
        case (.responding(.linger), .responseWritten): return .lingering(deadline: deadline(1))
        default: return state
        }
    }

    /// What the socket's input side has said: read until it is empty, then wait for the next event.
    enum Input: Equatable {
        /// An event came: there may be bytes to read.
        case unread
        /// The last read emptied the socket; with edge-triggered epoll, reading again before the next event could
        /// only answer EAGAIN (a system call per request saved, as nginx does).
        case empty
        /// The peer shut down its side (EPOLLRDHUP): read on until `recv` answers 0, as no further event comes.
        case ending
        /// It hung up, or the socket failed, with nothing left to read.
        case gone
    }

    let socket: Socket
    let peer: String
    let token: UInt64
    let owner = Atomic<Owner>(.loop)
    var parser: RequestParser
    var output: [UInt8] = []
    var outputOffset = 0
    var state: State
    var input = Input.unread
    var writeBlockedSince: UInt64?

    init(socket: Socket, peer: String, token: UInt64, limits: ParserLimits) {
        self.socket = socket
        self.peer = peer
        self.token = token
        parser = RequestParser(limits: limits)
        state = .idle(since: monotonicNanos(), fresh: true)
    }

    var hasPendingOutput: Bool { outputOffset < output.count }

    var isClosed: Bool {
        if case .closed = state { return true }
        return false
    }

    /// Waiting for a request with nothing of one buffered: may be closed to make room.
    /// Accepted and not yet sent a byte of its first request.
    var isFresh: Bool {
        if case .idle(_, fresh: true) = state { return parser.isIdle }
        return false
    }

    var isIdle: Bool {
        if case .idle = state { return parser.isIdle && !hasPendingOutput }
        return false
    }

    /// Notes an epoll event, whoever owns the connection: there may be input again, or the end of it.
    func noteEvent(_ flags: UInt32) {
        if flags & Epoll.readHangUp != 0, input != .gone {
            input = .ending
        } else if input == .empty {
            input = .unread
        }
    }

    /// Notes, on the loop, an event that says the peer is gone with nothing left to read.
    func noteHangUp(_ flags: UInt32) {
        if flags & (Epoll.readHangUp | Epoll.hangUp | Epoll.error) != 0, flags & Epoll.readable == 0 { input = .gone }
    }

    enum WriteResult { case done, wouldBlock, failed }

    /// Sends what is queued without blocking; on `.done` the output buffer is empty again.
    func writePending() -> WriteResult {
        let fd = socket.fd
        while hasPendingOutput {
            let sent = output.withUnsafeBytes { raw in
                send(fd, raw.baseAddress! + outputOffset, raw.count - outputOffset, Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
            }
            if sent > 0 {
                outputOffset += sent
                continue
            }
            let code = errno
            if sent < 0, code == EINTR { continue }
            return sent < 0 && (code == EAGAIN || code == EWOULDBLOCK) ? .wouldBlock : .failed
        }
        if output.capacity > 16 * 1024 {
            output = []
        } else {
            output.removeAll(keepingCapacity: true)
        }
        outputOffset = 0
        return .done
    }

    /// Copies the bytes into the output buffer, which keeps its storage from one response to the next.
    func queue(_ bytes: UnsafeBufferPointer<UInt8>) {
        output.append(contentsOf: bytes)
    }

    func queue(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer(queue)
    }
}
