#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import Synchronization

/// One client connection. It belongs to one thread at a time: its event loop, or a worker while a blocking
/// handler runs, which hands it back when the response is ready.
final class Connection: @unchecked Sendable {
    /// Who may touch the connection: its loop, or a worker (and whether the loop saw an event meanwhile).
    enum Owner: UInt8, AtomicRepresentable {
        case loop = 0
        case worker = 1
        case workerWithPendingEvent = 2
    }

    enum Phase {
        case reading
        case working
        case lingering(Deadline)
        case closed
    }

    let socket: Socket
    let peer: String
    let token: UInt64
    let owner = Atomic<Owner>(.loop)
    var parser: RequestParser
    var output: [UInt8] = []
    var outputOffset = 0
    var phase = Phase.reading
    var closeAfterFlush = false
    var lingerAfterFlush = false
    var peerClosed = false
    /// The last read emptied the socket: with edge-triggered epoll, reading again before the next event on this
    /// connection could only answer EAGAIN (a syscall per request saved, as nginx does). Touched by the loop only.
    var drained = false
    /// An event said the peer shut down its side (EPOLLRDHUP).
    var peerSentFIN = false
    /// From a request's first byte until its response is written.
    var busy = false
    /// A response is queued: the request ends when it is written (a 100 Continue does not end it).
    var responding = false
    /// Some byte of a request has arrived; until then the first-request timeout applies.
    var receivedAny = false
    /// Accepted while the server was at its connection limit: the loop closes its oldest idle connection first.
    var evicts = false
    var requestDeadline: Deadline?
    var readingBody = false
    var lastActivity = monotonicNanos()
    var writeBlockedSince: UInt64?

    init(socket: Socket, peer: String, token: UInt64, limits: ParserLimits) {
        self.socket = socket
        self.peer = peer
        self.token = token
        parser = RequestParser(limits: limits)
    }

    var hasPendingOutput: Bool { outputOffset < output.count }

    var isIdle: Bool {
        if case .reading = phase { return parser.isIdle && !hasPendingOutput && !busy }
        return false
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
        lastActivity = monotonicNanos()
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
