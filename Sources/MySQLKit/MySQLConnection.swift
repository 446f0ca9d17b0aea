#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import SystemKit

/// One logged-in connection to a MySQL server, used by one thread at a time; every call ends by its deadline.
public final class MySQLConnection: @unchecked Sendable {
    public let configuration: MySQLConfiguration
    public let handshake: ServerHandshake
    /// The capabilities both sides agreed on.
    public let capabilities: Capabilities
    let socket: Socket
    private var decoder: PacketDecoder
    private var readBuffer = [UInt8](repeating: 0, count: 16_384)
    /// False once an error has left the connection in an unknown state.
    public private(set) var isUsable = true

    /// Connects, reads the handshake and logs in with `mysql_native_password`, following an auth switch to it.
    public init(_ configuration: MySQLConfiguration, deadline: Deadline) throws(MySQLError) {
        self.configuration = configuration
        decoder = PacketDecoder(limit: configuration.maxPacket)
        do {
            socket = try Connector.connect(
                host: configuration.host, port: configuration.port, deadline: deadline,
                resolver: configuration.resolver)
        } catch let error as ConnectError {
            switch error {
            case .timedOut: throw .timedOut("connecting to \(configuration.host):\(configuration.port)")
            case .nameNotFound(let name): throw .connection("cannot resolve \(name)")
            case .refused: throw .connection("connection refused")
            case .other(let text): throw .connection(text)
            }
        } catch {
            throw .connection("\(error)")
        }
        socket.setTimeouts(receive: nil, send: max(0.001, Double(deadline.remainingMilliseconds) / 1000))
        let greeting = try Self.read(socket, &decoder, &readBuffer, deadline, "waiting for the handshake")
        handshake = try ServerHandshake(greeting.payload)
        var wanted = Capabilities.wanted
        if configuration.deprecateEOF { wanted.insert(.deprecateEOF) }
        if configuration.database.isEmpty { wanted.remove(.connectWithDatabase) }
        capabilities = wanted.intersection(handshake.capabilities).union([.protocol41, .secureConnection, .pluginAuth])
        guard handshake.capabilities.contains(.pluginAuth) else {
            throw .unsupportedServer("no pluggable authentication")
        }
        let response = HandshakeResponse(
            capabilities: capabilities, user: configuration.user,
            authResponse: NativePassword.scramble(password: configuration.password, seed: handshake.seed),
            database: configuration.database, maxPacket: configuration.maxPacket)
        try send(response.payload, sequence: greeting.sequence &+ 1)
        try authenticate(deadline)
    }

    private func authenticate(_ deadline: Deadline) throws(MySQLError) {
        for _ in 0..<3 {
            let packet = try read(deadline, "logging in")
            switch try ServerReply(packet.payload, capabilities: capabilities) {
            case .ok: return
            case .authSwitch(let plugin, let seed):
                guard plugin == NativePassword.name else { throw .unsupportedAuthentication(plugin) }
                try send(
                    NativePassword.scramble(password: configuration.password, seed: seed),
                    sequence: packet.sequence &+ 1)
            case .authMoreData:
                throw .unsupportedAuthentication("caching_sha2_password")
            }
        }
        throw .malformed("the login did not end after three steps")
    }

    /// Runs one statement with COM_QUERY and returns its rows (none for a statement without a result set).
    public func query(_ sql: String, deadline: Deadline) throws(MySQLError) -> ResultSet {
        try guarded { () throws(MySQLError) in
            try send([0x03] + Array(sql.utf8), sequence: 0)
            var reader = QueryResponseReader(capabilities: capabilities, maxRows: configuration.maxRows)
            while true {
                if let result = try reader.consume(try read(deadline, "waiting for the query result").payload) {
                    return result
                }
            }
        }
    }

    /// COM_PING: true round trip to the server.
    public func ping(deadline: Deadline) throws(MySQLError) {
        try guarded { () throws(MySQLError) in
            try send([0x0E], sequence: 0)
            guard case .ok = try ServerReply(try read(deadline, "waiting for ping").payload, capabilities: capabilities)
            else { throw .malformed("OK expected after COM_PING") }
        }
    }

    /// COM_QUIT, then closes the socket.
    public func close() {
        if isUsable { try? send([0x01], sequence: 0) }
        isUsable = false
        socket.close()
    }

    /// True when the server has closed the connection or sent bytes nobody asked for.
    public var isStale: Bool { !isUsable || socket.isStale }

    deinit { socket.close() }

    private func guarded<T>(_ body: () throws(MySQLError) -> T) throws(MySQLError) -> T {
        guard isUsable else { throw .connection("connection already failed") }
        do {
            return try body()
        } catch {
            if error.breaksConnection {
                isUsable = false
                socket.close()
            }
            throw error
        }
    }

    private func send(_ payload: [UInt8], sequence: UInt8) throws(MySQLError) {
        guard payload.count < Packet.maxPayload else {
            throw .tooLarge(length: payload.count, limit: Packet.maxPayload)
        }
        do {
            try socket.send(Packet(sequence: sequence, payload: payload).bytes)
        } catch {
            throw .connection("send failed: \(error)")
        }
        decoder.expected = sequence &+ 1
    }

    private func read(_ deadline: Deadline, _ doing: String) throws(MySQLError) -> Packet {
        try Self.read(socket, &decoder, &readBuffer, deadline, doing)
    }

    private static func read(
        _ socket: Socket, _ decoder: inout PacketDecoder, _ buffer: inout [UInt8], _ deadline: Deadline,
        _ doing: String
    ) throws(MySQLError) -> Packet {
        while true {
            if let packet = try decoder.next() { return packet }
            let n: Int
            do {
                n = try buffer.withUnsafeMutableBytes { try socket.receive(into: $0, until: deadline) }
            } catch SocketError.timedOut {
                throw .timedOut(doing)
            } catch {
                throw .connection("receive failed: \(error)")
            }
            if n == 0 {
                try decoder.finish()
                throw .connection("the server closed the connection \(doing)")
            }
            decoder.append(buffer[0..<n])
        }
    }
}
