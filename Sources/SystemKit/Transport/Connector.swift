#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import Dispatch

/// Why an outbound connection failed.
public enum ConnectError: Error, Sendable, Equatable {
    case nameNotFound(String)
    case refused(String)
    case timedOut
    case other(String)
}

/// A resolved socket address.
public struct SocketAddress: Sendable {
    var family: Int32
    var bytes: [UInt8]
}

/// Resolves names with `getaddrinfo` off the calling thread, so a resolver that hangs costs the caller no more
/// than its deadline, and keeps answers for a few seconds.
public final class Resolver: Sendable {
    public static let shared = Resolver()
    private let cache = Lock<[String: (addresses: [SocketAddress], expires: UInt64)]>([:])
    let ttlNanos: UInt64 = 5_000_000_000
    private let lookupName: @Sendable (String, Int) throws -> [SocketAddress]

    /// Looks names up with `getaddrinfo`.
    public convenience init() {
        self.init { host, port in try Resolver.lookup(host: host, port: port, numericOnly: false) }
    }

    /// Looks names up with `lookup` (numeric hosts are always parsed directly): for tests of a slow or failing
    /// resolver.
    init(lookup: @escaping @Sendable (String, Int) throws -> [SocketAddress]) {
        lookupName = lookup
    }

    /// The addresses of a numeric host, or of a name looked up less than `ttlNanos` ago; nil when a lookup is due.
    public func cached(host: String, port: Int) -> [SocketAddress]? {
        let key = "\(host):\(port)"
        if let hit = cache.withLock({ $0[key] }), hit.expires > monotonicNanos() { return hit.addresses }
        if let numeric = try? Self.lookup(host: host, port: port, numericOnly: true) {
            cache.withLock { $0[key] = (numeric, UInt64.max) }
            return numeric
        }
        return nil
    }

    public func resolve(host: String, port: Int, deadline: Deadline) throws -> [SocketAddress] {
        if let known = cached(host: host, port: port) { return known }
        let key = "\(host):\(port)"
        let now = monotonicNanos()
        final class Box: Sendable {
            let result = Lock<Result<[SocketAddress], ConnectError>?>(nil)
            let done = DispatchSemaphore(value: 0)
        }
        let box = Box()
        DispatchQueue.global().async {
            let outcome: Result<[SocketAddress], ConnectError>
            do { outcome = .success(try self.lookupName(host, port)) } catch let e as ConnectError {
                outcome = .failure(e)
            } catch { outcome = .failure(.other("\(error)")) }
            box.result.withLock { $0 = outcome }
            box.done.signal()
        }
        let waitNanos = deadline.nanos > now ? deadline.nanos - now : 0
        guard box.done.wait(timeout: .now() + .nanoseconds(Int(min(waitNanos, UInt64(Int.max))))) == .success,
            let outcome = box.result.withLock({ $0 })
        else { throw ConnectError.timedOut }
        let addresses = try outcome.get()
        cache.withLock { $0[key] = (addresses, monotonicNanos() + ttlNanos) }
        return addresses
    }

    static func lookup(host: String, port: Int, numericOnly: Bool) throws -> [SocketAddress] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV | (numericOnly ? AI_NUMERICHOST : AI_ADDRCONFIG)
        var result: UnsafeMutablePointer<addrinfo>?
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        let status = getaddrinfo(bare, String(port), &hints, &result)
        guard status == 0 else {
            if status == EAI_NONAME || status == EAI_AGAIN || status == EAI_FAIL {
                throw ConnectError.nameNotFound(host)
            }
            throw ConnectError.other(String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(result) }
        var addresses: [SocketAddress] = []
        var cursor = result
        while let info = cursor {
            let bytes = UnsafeRawBufferPointer(start: info.pointee.ai_addr, count: Int(info.pointee.ai_addrlen))
            addresses.append(SocketAddress(family: info.pointee.ai_family, bytes: Array(bytes)))
            cursor = info.pointee.ai_next
        }
        guard !addresses.isEmpty else { throw ConnectError.nameNotFound(host) }
        return addresses
    }
}

/// Outbound TCP connections with a deadline, for HTTPKit's clients and other protocols' (MySQLKit).
public enum Connector {
    /// Connects to the first address of `host` that accepts, within the connect deadline; throws `ConnectError`.
    public static func connect(host: String, port: Int, deadline: Deadline, resolver: Resolver) throws -> Socket {
        let addresses = try resolver.resolve(host: host, port: port, deadline: deadline)
        var lastError = ConnectError.refused("\(host):\(port)")
        for address in addresses {
            do {
                return try connect(address, deadline: deadline)
            } catch let error as ConnectError {
                lastError = error
                if error == .timedOut { break }
            }
        }
        if case .refused = lastError { throw ConnectError.refused("\(host):\(port)") }
        throw lastError
    }

    static func connect(_ address: SocketAddress, deadline: Deadline) throws -> Socket {
        let (socket, inProgress) = try startConnecting(address)
        if inProgress {
            var p = pollfd(fd: socket.fd, events: Int16(POLLOUT), revents: 0)
            while true {
                let ready = poll(&p, 1, deadline.remainingMilliseconds)
                if ready > 0 { break }
                if ready == 0 { throw ConnectError.timedOut }
                if errno != EINTR { throw ConnectError.other(errnoText(errno)) }
            }
            if let error = pendingError(socket) { throw error }
        }
        let flags = fcntl(socket.fd, F_GETFL)
        _ = fcntl(socket.fd, F_SETFL, flags & ~Int32(O_NONBLOCK))
        return socket
    }

    /// A non-blocking socket with its connection to `address` under way (`inProgress`) or already made.
    static public func startConnecting(_ address: SocketAddress) throws(ConnectError) -> (
        socket: Socket, inProgress: Bool
    ) {
        let fd = socket(
            address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue),
            0)
        guard fd >= 0 else { throw .other("socket: \(errnoText(errno))") }
        let socket = Socket(fd: fd)
        let result = address.bytes.withUnsafeBytes {
            Glibc.connect(fd, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t($0.count))
        }
        let code = errno
        guard result == 0 || code == EINPROGRESS else { throw error(code) }
        socket.setNoDelay()
        return (socket, result != 0)
    }

    /// How a connection started by `startConnecting` ended, once its socket is writable: nil when it is made.
    public static func pendingError(_ socket: Socket) -> ConnectError? {
        var soError: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        _ = getsockopt(socket.fd, SOL_SOCKET, SO_ERROR, &soError, &length)
        return soError == 0 ? nil : error(soError)
    }

    private static func error(_ code: Int32) -> ConnectError {
        code == ECONNREFUSED ? .refused("") : .other(errnoText(code))
    }
}
