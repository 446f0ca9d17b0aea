import SystemKit
/// Why a message could not be parsed. Each maps to the status a server answers with before closing.
public enum ParseError: Error, Sendable, Equatable, CustomStringConvertible {
    case malformed(String)
    case uriTooLong
    case headersTooLarge
    case bodyTooLarge
    case versionNotSupported
    case unsupportedTransferCoding(String)

    public var status: HTTPStatus {
        switch self {
        case .malformed: return .badRequest
        case .uriTooLong: return .uriTooLong
        case .headersTooLarge: return .headerFieldsTooLarge
        case .bodyTooLarge: return .contentTooLarge
        case .versionNotSupported: return .httpVersionNotSupported
        case .unsupportedTransferCoding: return .notImplemented
        }
    }

    public var description: String {
        switch self {
        case .malformed(let why): return "malformed request: \(why)"
        case .uriTooLong: return "request target too long"
        case .headersTooLarge: return "request header fields too large"
        case .bodyTooLarge: return "request body too large"
        case .versionNotSupported: return "HTTP version not supported"
        case .unsupportedTransferCoding(let coding): return "unsupported transfer coding \(coding)"
        }
    }
}

/// Size limits the parsers enforce. Each is configurable through the server settings.
public struct ParserLimits: Sendable, Equatable {
    /// The request line (method, target, version); over it: 414.
    public var maxRequestLineBytes: Int
    /// The whole head: start line, header fields and chunked trailers; over it: 431.
    public var maxHeaderBytes: Int
    /// How many header fields; over it: 431.
    public var maxHeaderCount: Int
    /// The decoded body; over it: 413.
    public var maxBodyBytes: Int

    public init(
        maxRequestLineBytes: Int = 8192, maxHeaderBytes: Int = 16384, maxHeaderCount: Int = 100,
        maxBodyBytes: Int = 1 << 20
    ) {
        self.maxRequestLineBytes = maxRequestLineBytes
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderCount = maxHeaderCount
        self.maxBodyBytes = maxBodyBytes
    }
}
