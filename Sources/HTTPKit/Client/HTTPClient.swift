import SystemKit
/// Why an outbound request failed; services map these to statuses.
public enum HTTPClientError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidURL(String)
    case nameNotFound(String)
    case connectionRefused(String)
    case timedOut(String)
    case protocolError(String)
    case connectionClosed(String)
    case invalidHeader(String)

    public var description: String {
        switch self {
        case .invalidURL(let url): return "invalid URL \(url)"
        case .nameNotFound(let host): return "name not found: \(host)"
        case .connectionRefused(let address): return "connection refused by \(address)"
        case .timedOut(let address): return "timed out talking to \(address)"
        case .protocolError(let why): return "protocol error: \(why)"
        case .connectionClosed(let address): return "connection closed by \(address)"
        case .invalidHeader(let name): return "invalid outgoing header \(name)"
        }
    }

    /// A short label for metrics and logs.
    public var kind: String {
        switch self {
        case .invalidURL: return "invalid_url"
        case .nameNotFound: return "name_not_found"
        case .connectionRefused: return "refused"
        case .timedOut: return "timeout"
        case .protocolError: return "protocol_error"
        case .connectionClosed: return "closed"
        case .invalidHeader: return "invalid_header"
        }
    }
}

extension HTTPClientError {
    /// A failure to connect to `authority`, as the client reports it.
    init(_ error: ConnectError, authority: String) {
        switch error {
        case .nameNotFound(let host): self = .nameNotFound(host)
        case .refused: self = .connectionRefused(authority)
        case .timedOut: self = .timedOut(authority)
        case .other(let why): self = .connectionRefused("\(authority) (\(why))")
        }
    }
}

/// Settings of an `HTTPClient`.
public struct ClientConfiguration: Sendable {
    public var connectTimeout: Double = 2
    /// Keep connections open and reuse them per host:port.
    public var keepAlive = true
    /// Idle connections kept per host:port.
    public var maxIdlePerHost = 128
    /// How long an idle pooled connection is kept.
    public var idleTimeout: Double = 30
    public var maxResponseBodyBytes = 16 << 20
    public var limits = ParserLimits(maxRequestLineBytes: 16384, maxHeaderBytes: 65536, maxHeaderCount: 200)
    /// Where host names are looked up (and their answers kept for a few seconds).
    public var resolver = Resolver.shared

    public init() {}
}

/// An HTTP/1.1 client on blocking sockets with a connect timeout, a total deadline per request and an optional
/// keep-alive pool. Safe to share between threads.
public final class HTTPClient: Sendable {
    public let configuration: ClientConfiguration
    /// Idle connections, in stripes picked by the calling thread: many threads calling at once rarely wait on
    /// each other, and a thread tends to get back the connection it used last.
    private final class PoolStripe: Sendable {
        let idle = Lock<[String: [(socket: Socket, idleSince: UInt64)]]>([:])
    }
    private let stripes = (0..<16).map { _ in PoolStripe() }
    private var pool: PoolStripe { stripes[threadStripe(of: stripes.count)] }

    /// A client with the default configuration, for code that has none of its own.
    public static let shared = HTTPClient()

    public init(configuration: ClientConfiguration = ClientConfiguration()) {
        self.configuration = configuration
    }

    public struct URL: Sendable, Equatable {
        public let host: String
        public let port: Int
        public var target: String
        /// `host`, and `:port` unless it is 80: the `Host` header and the pool key, made once.
        public let authority: String

        /// Parses `http://host[:port][/path][?query]`. IPv6 hosts go in brackets.
        public init(_ text: String) throws {
            guard text.hasPrefix("http://") else {
                throw HTTPClientError.invalidURL(
                    text.hasPrefix("https://") ? "\(text) (TLS is left to the mesh: use http://)" : text)
            }
            let rest = text.dropFirst(7)
            let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
            let authority = rest[..<authorityEnd]
            var target = String(rest[authorityEnd...])
            if target.isEmpty || target.hasPrefix("?") { target = "/" + target }
            var host = Substring(authority)
            var port = 80
            if authority.hasPrefix("[") {
                guard let close = authority.firstIndex(of: "]") else { throw HTTPClientError.invalidURL(text) }
                host = authority[...close]
                let after = authority[authority.index(after: close)...]
                if after.hasPrefix(":") {
                    guard let p = Int(after.dropFirst()), (1...65535).contains(p) else {
                        throw HTTPClientError.invalidURL(text)
                    }
                    port = p
                }
            } else if let colon = authority.lastIndex(of: ":") {
                guard let p = Int(authority[authority.index(after: colon)...]), (1...65535).contains(p) else {
                    throw HTTPClientError.invalidURL(text)
                }
                host = authority[..<colon]
                port = p
            }
            let hostChars = host.hasPrefix("[") ? host.dropFirst().dropLast().utf8 : host.utf8
            let allowed: (UInt8) -> Bool =
                host.hasPrefix("[")
                ? { hexValue($0) != nil || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".") }
                : { URI.isUnreserved($0) }
            guard !hostChars.isEmpty, hostChars.allSatisfy(allowed) else { throw HTTPClientError.invalidURL(text) }
            self.host = String(host)
            self.port = port
            self.target = target
            self.authority = port == 80 ? self.host : "\(self.host):\(port)"
        }
    }

    /// Sends one request and reads the whole response before `timeout` seconds pass.
    public func request(
        _ method: HTTPMethod = .get, _ url: String, headers: HTTPHeaders = [:], body: [UInt8] = [], timeout: Double
    ) throws -> ClientResponse {
        let parsed = try URL(url)
        return try request(method, parsed, headers: headers, body: body, deadline: .after(seconds: timeout))
    }

    public func get(_ url: String, headers: HTTPHeaders = [:], timeout: Double) throws -> ClientResponse {
        try request(.get, url, headers: headers, timeout: timeout)
    }

    public func request(
        _ method: HTTPMethod, _ url: URL, headers: HTTPHeaders, body: [UInt8], deadline: Deadline
    ) throws -> ClientResponse {
        try perform([Call(method, url, headers: headers, body: body, deadline: deadline)])[0].get()
    }

    func connect(_ url: URL, deadline: Deadline) throws -> Socket {
        let connectDeadline = Deadline.earliest(deadline, .after(seconds: configuration.connectTimeout))
        let address = url.authority
        do {
            return try Connector.connect(
                host: url.host, port: url.port, deadline: connectDeadline, resolver: configuration.resolver)
        } catch let error as ConnectError {
            throw HTTPClientError(error, authority: address)
        }
    }

    func takeIdle(_ key: String) -> Socket? {
        let maxIdle = UInt64(configuration.idleTimeout * 1e9)
        let stripe = pool
        while let entry = stripe.idle.withLock({ $0[key]?.popLast() }) {
            if nanos(since: entry.idleSince) < maxIdle, !entry.socket.isStale { return entry.socket }
            entry.socket.close()
        }
        return nil
    }

    func putIdle(_ key: String, _ socket: Socket) {
        let kept = pool.idle.withLock { pool -> Bool in
            var list = pool[key, default: []]
            guard list.count < configuration.maxIdlePerHost else { return false }
            list.append((socket, monotonicNanos()))
            pool[key] = list
            return true
        }
        if !kept { socket.close() }
    }
}
