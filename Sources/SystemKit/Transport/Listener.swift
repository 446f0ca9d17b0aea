import CLinux
#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// A listening TCP socket. `[::]` (the default) accepts IPv6 and IPv4-mapped connections; port 0 picks a free port.
public final class Listener: Sendable {
    public let socket: Socket
    public let host: String
    public let port: Int

    public init(host: String = "::", port: Int, backlog: Int32 = 1024) throws {
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let bindHost = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        let status = getaddrinfo(bindHost, String(port), &hints, &result)
        guard status == 0, let info = result else {
            throw SocketError.system("invalid listen address \(host)", EINVAL)
        }
        defer { freeaddrinfo(result) }
        let fd = Glibc.socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SocketError.system("socket", errno) }
        let socket = Socket(fd: fd)
        var one: Int32 = 1, zero: Int32 = 0
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if info.pointee.ai_family == AF_INET6 {
            _ = setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &zero, socklen_t(MemoryLayout<Int32>.size))
        }
        guard bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            let code = errno
            throw SocketError.system(
                code == EADDRINUSE ? "port \(port) on \(host) is already in use" : "bind \(host):\(port)", code)
        }
        guard listen(fd, backlog) == 0 else { throw SocketError.system("listen", errno) }
        var bound = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let boundPort: Int = withUnsafeMutablePointer(to: &bound) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                _ = getsockname(fd, address, &length)
                if address.pointee.sa_family == sa_family_t(AF_INET6) {
                    return address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                        Int(UInt16(bigEndian: $0.pointee.sin6_port))
                    }
                }
                return address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                    Int(UInt16(bigEndian: $0.pointee.sin_port))
                }
            }
        }
        self.socket = socket
        self.host = bindHost
        self.port = boundPort
    }

    /// Waits for the next connection (in non-blocking mode if asked). Nil once the listener has been shut down.
    public func accept(nonBlocking: Bool = false) throws -> (Socket, String)? {
        let flags = Int32(SOCK_CLOEXEC.rawValue) | (nonBlocking ? Int32(SOCK_NONBLOCK.rawValue) : 0)
        while true {
            var address = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let fd = withUnsafeMutablePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    CLinux_accept4(socket.fd, $0, &length, flags)
                }
            }
            if fd >= 0 {
                let peer = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { addressText($0) }
                }
                return (Socket(fd: fd), peer ?? "")
            }
            let code = errno
            switch code {
            case EINTR, ECONNABORTED, EPROTO: continue
            case EINVAL, EBADF: return nil
            case EMFILE, ENFILE, ENOBUFS, ENOMEM:
                usleep(10_000)
                continue
            default: throw SocketError.system("accept", code)
            }
        }
    }

    /// Stops accepting: a blocked `accept` returns nil.
    /// True when a connection waits to be accepted.
    public var hasPending: Bool {
        var entry = pollfd(fd: socket.fd, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, 0) == 1 && entry.revents & Int16(POLLIN) != 0
    }

    public func shutdown() {
        socket.shutdown()
    }
}
