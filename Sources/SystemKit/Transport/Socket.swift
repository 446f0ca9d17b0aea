#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import Synchronization

/// Socket-level failures.
public enum SocketError: Error, Sendable, Equatable, CustomStringConvertible {
    case timedOut
    case system(String, Int32)

    public var description: String {
        switch self {
        case .timedOut: return "timed out"
        case .system(let call, let code): return "\(call): \(errnoText(code))"
        }
    }
}

/// A connected stream socket. Only its owning thread reads, writes and closes; any thread may `shutdown` it to
/// wake a blocked reader.
public final class Socket: Sendable {
    private let descriptor: Atomic<Int32>

    public init(fd: Int32) { descriptor = Atomic(fd) }
    deinit { close() }

    public var fd: Int32 { descriptor.load(ordering: .relaxed) }

    public func close() {
        let fd = descriptor.exchange(-1, ordering: .acquiringAndReleasing)
        if fd >= 0 { _ = Glibc.close(fd) }
    }

    /// Ends reading and writing: a blocked `recv` on another thread returns 0.
    public func shutdown() {
        let fd = self.fd
        if fd >= 0 { _ = Glibc.shutdown(fd, Int32(SHUT_RDWR)) }
    }

    public func shutdownWrite() {
        let fd = self.fd
        if fd >= 0 { _ = Glibc.shutdown(fd, Int32(SHUT_WR)) }
    }

    /// Waits until the socket is readable or the deadline passes (false).
    public func waitReadable(until deadline: Deadline) -> Bool {
        while true {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let timeout = deadline.remainingMilliseconds
            let result = poll(&p, 1, timeout)
            if result > 0 { return true }
            if result == 0 { if deadline.hasPassed { return false } else { continue } }
            if errno == EINTR { continue }
            return true
        }
    }

    /// Reads what is available (blocking per the socket's receive timeout) into `buffer`. Returns 0 at EOF.
    public func receive(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let n = recv(fd, buffer.baseAddress, buffer.count, 0)
            if n >= 0 { return n }
            let code = errno
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK { throw SocketError.timedOut }
            if code == ECONNRESET || code == EBADF || code == ENOTCONN { return 0 }
            throw SocketError.system("recv", code)
        }
    }

    /// Reads with a deadline, however the socket's own timeout is set.
    public func receive(into buffer: UnsafeMutableRawBufferPointer, until deadline: Deadline) throws -> Int {
        guard waitReadable(until: deadline) else { throw SocketError.timedOut }
        return try receive(into: buffer)
    }

    /// Writes every byte, or throws. Never raises SIGPIPE.
    public func send(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                if n > 0 {
                    offset += n
                    continue
                }
                let code = errno
                if n < 0, code == EINTR { continue }
                if n < 0, code == EAGAIN || code == EWOULDBLOCK { throw SocketError.timedOut }
                throw SocketError.system("send", code)
            }
        }
    }

    public func setTimeouts(receive: Double?, send: Double?) {
        func apply(_ option: Int32, _ seconds: Double) {
            var tv = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - Double(Int(seconds))) * 1e6))
            _ = setsockopt(fd, SOL_SOCKET, option, &tv, socklen_t(MemoryLayout<timeval>.size))
        }
        if let receive { apply(SO_RCVTIMEO, receive) }
        if let send { apply(SO_SNDTIMEO, send) }
    }

    public func setNoDelay() {
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// True when the peer has closed or reset the connection, or unexpected bytes are waiting (a pooled
    /// connection in either state must not be reused).
    public var isStale: Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, 0) != 0
    }
}

/// Text for a socket address (`127.0.0.1`, `::1`), or nil.
func addressText(_ storage: UnsafePointer<sockaddr>) -> String? {
    var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
    let length =
        storage.pointee.sa_family == sa_family_t(AF_INET6)
        ? socklen_t(MemoryLayout<sockaddr_in6>.size) : socklen_t(MemoryLayout<sockaddr_in>.size)
    guard getnameinfo(storage, length, &host, socklen_t(host.count), nil, 0, NI_NUMERICHOST) == 0 else { return nil }
    var text = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    if text.hasPrefix("::ffff:"), text.contains(".") { text.removeFirst(7) }
    return text
}
