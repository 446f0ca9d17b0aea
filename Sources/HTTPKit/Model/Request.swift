import SystemKit
/// A complete HTTP request as the server hands it to a handler.
public struct Request: Sendable {
    public var method: HTTPMethod
    /// The request target as sent (origin-form or absolute-form).
    public var target: String
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// The trailer fields of a chunked body, kept apart from `headers` (RFC 9110 §6.5.1: a trailer is not merged
    /// into the header section, or a client could add a Host or a Content-Length after the head was checked).
    public var trailers = HTTPHeaders()
    /// The raw (still percent-encoded) path of the target.
    public var path: String
    /// The raw query of the target, without `?`.
    public var query: String
    /// Decoded path parameters of the matched route (`/reviews/:id` gives `id`), in pattern order.
    public var parameters: [(name: String, value: String)] = []
    /// The matched route pattern, a low-cardinality label; nil before routing or when nothing matched.
    public var route: String?
    /// The peer's address as text.
    public var remoteAddress: String = ""

    public init(
        method: HTTPMethod, target: String, version: HTTPVersion = .http1_1,
        headers: HTTPHeaders = [:], body: [UInt8] = []
    ) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.body = body
        (path, query) = URI.split(target: target)
    }

    /// Query parameters, decoded, in order.
    public var queryItems: [(String, String)] { URI.parseForm(query) }

    public func queryValue(_ name: String) -> String? {
        queryItems.first { $0.0 == name }?.1
    }

    public var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// A path parameter, or a 400 when it is missing.
    public func parameter(_ name: String) throws -> String {
        guard let value = parameters.first(where: { $0.name == name })?.value else {
            throw HTTPError(.badRequest, "missing path parameter \(name)")
        }
        return value
    }

    /// A path parameter that is a 32-bit integer written the one canonical way (`0`, `42`, `-5`): digits with an
    /// optional `-`, no leading zero, no `+`, no hex or exponent, within Int32's range; else 400 with `message`.
    public func int32Parameter(_ name: String, message: String) throws -> Int {
        let text = try parameter(name)
        guard let value = Int32(text), String(value) == text else { throw HTTPError(.badRequest, message) }
        return Int(value)
    }

    /// Whether the connection stays open after this request (RFC 9112 §9.3).
    public var keepAlive: Bool { HTTPKeepAlive.decide(version: version, headers: headers) }
}

/// A number written as plain decimal digits (no sign, no spaces, at most 18 digits), as HTTP lengths and ids are.
func plainDecimal(_ text: String) -> Int? {
    guard !text.isEmpty, text.utf8.count <= 18, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
    return Int(text)
}

enum HTTPKeepAlive {
    static func decide(version: HTTPVersion, headers: HTTPHeaders) -> Bool {
        let tokens = headers.tokens("Connection").map { $0.lowercased() }
        if tokens.contains("close") { return false }
        if version == .http1_0 { return tokens.contains("keep-alive") }
        return version.major == 1 && version.minor >= 1
    }
}
