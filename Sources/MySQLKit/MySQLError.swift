/// Why a MySQL operation failed. The descriptions are one line, fit for a log or a 503 message.
public enum MySQLError: Error, Sendable, Equatable, CustomStringConvertible {
    /// An ERR packet: the server's error code, SQL state and message.
    case server(code: Int, state: String, message: String)
    /// The bytes do not follow the protocol.
    case malformed(String)
    /// A packet ended before its fields did.
    case truncated(String)
    /// A packet's length is over the limit (16 MB at most: this client does not join split packets).
    case tooLarge(length: Int, limit: Int)
    case outOfSequence(expected: UInt8, got: UInt8)
    /// The server asked for an authentication method this client does not speak.
    case unsupportedAuthentication(String)
    /// The server lacks a capability this client needs.
    case unsupportedServer(String)
    /// Connecting or talking to the server failed (refused, reset, closed).
    case connection(String)
    case timedOut(String)

    public var description: String {
        switch self {
        case .server(let code, let state, let message): return "server error \(code) (\(state)): \(message)"
        case .malformed(let what): return "malformed packet: \(what)"
        case .truncated(let what): return "truncated packet: \(what)"
        case .tooLarge(let length, let limit): return "packet of \(length) bytes is over the \(limit)-byte limit"
        case .outOfSequence(let expected, let got): return "packet sequence \(got) where \(expected) was due"
        case .unsupportedAuthentication(let plugin):
            return "authentication plugin \(plugin) is not supported (use mysql_native_password)"
        case .unsupportedServer(let what): return "unsupported server: \(what)"
        case .connection(let what): return what
        case .timedOut(let what): return "timed out \(what)"
        }
    }

    /// True when the connection can carry no more commands (everything but an ERR answer to a command).
    public var breaksConnection: Bool {
        if case .server = self { return false }
        return true
    }
}
