import SystemKit

/// The server's first packet (Protocol::HandshakeV10).
public struct ServerHandshake: Sendable, Equatable {
    public var serverVersion: String
    public var connectionID: UInt32
    public var capabilities: Capabilities
    /// The 20-byte scramble the password is hashed with.
    public var seed: [UInt8]
    public var plugin: String

    public init(_ payload: [UInt8]) throws(MySQLError) {
        var r = PayloadReader(payload, "server handshake")
        if r.peek() == 0xFF { throw ServerReply.error(payload, capabilities: []) }
        let version = try r.u8()
        guard version == 10 else { throw .unsupportedServer("handshake protocol \(version), not 10") }
        serverVersion = String(decoding: try r.nulTerminated(), as: UTF8.self)
        connectionID = try r.u32()
        var seed = Array(try r.take(8))
        try r.skip(1)
        var flags = UInt32(try r.u16())
        var seedLength = 0
        var plugin = ""
        if !r.atEnd {
            try r.skip(3)  // character set, status
            flags |= UInt32(try r.u16()) << 16
            seedLength = Int(try r.u8())
            try r.skip(10)
            let caps = Capabilities(rawValue: flags)
            if caps.contains(.secureConnection) {
                let part2 = max(13, seedLength - 8)
                seed += try r.take(part2).prefix { $0 != 0 }
            }
            if caps.contains(.pluginAuth) {
                guard !r.atEnd else { throw .truncated("server handshake: no plugin name") }
                plugin = String(decoding: try r.nulTerminated(orRest: true), as: UTF8.self)
            }
        }
        capabilities = Capabilities(rawValue: flags)
        guard capabilities.contains(.protocol41) else { throw .unsupportedServer("no protocol 4.1 (server too old)") }
        guard capabilities.contains(.secureConnection) else { throw .unsupportedServer("no secure authentication") }
        guard seed.count >= 20 else { throw .truncated("server handshake: a scramble of \(seed.count) bytes") }
        self.seed = seed
        self.plugin = plugin.isEmpty ? NativePassword.name : plugin
    }
}

/// `mysql_native_password`: SHA1(password) XOR SHA1(seed + SHA1(SHA1(password))).
public enum NativePassword {
    public static let name = "mysql_native_password"

    public static func scramble(password: String, seed: [UInt8]) -> [UInt8] {
        guard !password.isEmpty else { return [] }
        let stage1 = SHA1.hash(Array(password.utf8))
        let stage2 = SHA1.hash(stage1)
        let mask = SHA1.hash(Array(seed.prefix(20)) + stage2)
        return zip(stage1, mask).map { $0 ^ $1 }
    }
}

/// The client's answer to the handshake (Protocol::HandshakeResponse41).
struct HandshakeResponse {
    var capabilities: Capabilities
    var user: String
    var authResponse: [UInt8]
    var database: String
    var maxPacket: Int

    var payload: [UInt8] {
        var p: [UInt8] = []
        p.appendInteger(UInt64(capabilities.rawValue), bytes: 4)
        p.appendInteger(UInt64(maxPacket), bytes: 4)
        p.append(45)  // utf8mb4_general_ci
        p += [UInt8](repeating: 0, count: 23)
        p += Array(user.utf8) + [0]
        p.append(UInt8(authResponse.count))
        p += authResponse
        if capabilities.contains(.connectWithDatabase) { p += Array(database.utf8) + [0] }
        p += Array(NativePassword.name.utf8) + [0]
        return p
    }
}

/// What the server answered to a login step or a command without a result set.
enum ServerReply: Equatable {
    case ok(status: Int)
    /// Protocol::AuthSwitchRequest: use `plugin` with this seed.
    case authSwitch(plugin: String, seed: [UInt8])
    /// Protocol::AuthMoreData (caching_sha2_password's steps).
    case authMoreData([UInt8])

    init(_ payload: [UInt8], capabilities: Capabilities) throws(MySQLError) {
        var r = PayloadReader(payload, "server reply")
        switch r.peek() {
        case 0x00:
            try r.skip(1)
            _ = try r.lengthEncoded()  // affected rows
            _ = try r.lengthEncoded()  // last insert id
            self = .ok(status: r.remaining >= 2 ? try r.u16() : 0)
        case 0xFF: throw ServerReply.error(payload, capabilities: capabilities)
        case 0xFE:
            try r.skip(1)
            // A lone 0xFE is the pre-4.1 switch to mysql_old_password.
            guard !r.atEnd else { throw .unsupportedAuthentication("mysql_old_password") }
            let plugin = String(decoding: try r.nulTerminated(orRest: true), as: UTF8.self)
            self = .authSwitch(plugin: plugin, seed: Array(r.rest().prefix { $0 != 0 }))
        case 0x01:
            try r.skip(1)
            self = .authMoreData(Array(r.rest()))
        case let byte?: throw .malformed("unexpected reply header 0x\(String(byte, radix: 16))")
        case nil: throw .truncated("empty reply")
        }
    }

    /// The error an ERR packet carries (Protocol::ERR_Packet), or a malformed-packet error.
    static func error(_ payload: [UInt8], capabilities: Capabilities) -> MySQLError {
        var r = PayloadReader(payload, "error packet")
        do {
            try r.skip(1)
            let code = try r.u16()
            var state = "HY000"
            if r.peek() == UInt8(ascii: "#") {
                try r.skip(1)
                state = String(decoding: try r.take(5), as: UTF8.self)
            }
            return .server(code: code, state: state, message: String(decoding: r.rest(), as: UTF8.self))
        } catch {
            return error
        }
    }
}
