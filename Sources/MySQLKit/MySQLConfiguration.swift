import SystemKit

/// Where a MySQL server is and how to log in; the limits of one connection.
public struct MySQLConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String
    public var database: String
    /// Ask for the CLIENT_DEPRECATE_EOF form of result sets when the server offers it.
    public var deprecateEOF = true
    /// The largest packet accepted from the server (at most 16 MB − 2 bytes).
    public var maxPacket = Packet.maxPayload - 1
    /// The most rows one query may return.
    public var maxRows = 10_000
    public var resolver = Resolver.shared

    public init(host: String, port: Int = 3306, user: String, password: String, database: String) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
    }

    /// `mysql://host:port/database`, for messages (never the password).
    public var endpoint: String { "mysql://\(host):\(port)/\(database)" }
}
