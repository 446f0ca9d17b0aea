/// Capability flags of the client/server protocol (the ones this client reads or sets).
public struct Capabilities: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let longPassword = Capabilities(rawValue: 1)
    public static let longFlag = Capabilities(rawValue: 1 << 2)
    public static let connectWithDatabase = Capabilities(rawValue: 1 << 3)
    public static let protocol41 = Capabilities(rawValue: 1 << 9)
    public static let transactions = Capabilities(rawValue: 1 << 13)
    public static let secureConnection = Capabilities(rawValue: 1 << 15)
    public static let pluginAuth = Capabilities(rawValue: 1 << 19)
    public static let deprecateEOF = Capabilities(rawValue: 1 << 24)

    /// What this client asks for; `deprecateEOF` only where the server offers it and the caller wants it.
    static let wanted: Capabilities = [
        .longPassword, .longFlag, .connectWithDatabase, .protocol41, .transactions, .secureConnection, .pluginAuth,
    ]
}

/// The server status flags this client reads.
struct ServerStatus: OptionSet {
    let rawValue: Int
    static let moreResultsExist = ServerStatus(rawValue: 0x0008)
}
