import Foundation
import SystemKit
import TestSupport
import Testing

@testable import MySQLKit

/// A server that plays a script on one connection: for the exchanges a real MariaDB never makes (an auth switch to
/// mysql_native_password, packets out of sequence or too large, silence), which the real-server tests cannot reach.
final class FakeMySQLServer: Sendable {
    let listener: Listener
    var port: Int { listener.port }

    init(_ script: @escaping @Sendable (Socket) throws -> Void) throws {
        listener = try Listener(host: "127.0.0.1", port: 0)
        let listener = self.listener
        _ = startThread {
            guard let (socket, _) = try? listener.accept() else { return }
            try? script(socket)
            usleep(200_000)
            socket.close()
        }
    }

    deinit { listener.shutdown() }

    /// Reads one packet from the client, whatever its sequence number.
    static func read(_ socket: Socket) throws -> Packet {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while bytes.count < 4 || bytes.count < 4 + (Int(bytes[0]) | Int(bytes[1]) << 8 | Int(bytes[2]) << 16) {
            let n = try buffer.withUnsafeMutableBytes { try socket.receive(into: $0, until: .after(seconds: 5)) }
            guard n > 0 else { throw MySQLError.connection("client closed") }
            bytes += buffer[0..<n]
        }
        return Packet(sequence: bytes[3], payload: Array(bytes[4...]))
    }

    func configuration(password: String = "secret") -> MySQLConfiguration {
        MySQLConfiguration(host: "127.0.0.1", port: port, user: "root", password: password, database: "test")
    }
}

@Suite struct FakeServerTests {
    static let firstSeed = Array(UInt8(1)...UInt8(20)), secondSeed = Array(UInt8(101)...UInt8(120))

    @Test func anAuthSwitchToNativePasswordIsFollowedWithTheNewSeed() throws {
        let server = try FakeMySQLServer { socket in
            try socket.send(Packet(sequence: 0, payload: ServerBytes.handshake(seed: Self.firstSeed)).bytes)
            let response = try FakeMySQLServer.read(socket)
            #expect(response.sequence == 1)
            let scramble = NativePassword.scramble(password: "secret", seed: Self.firstSeed)
            #expect(response.payload.contains(subsequence: scramble))
            #expect(response.payload.contains(subsequence: Array("mysql_native_password".utf8) + [0]))
            let switchTo = [0xFE] + Array("mysql_native_password".utf8) + [0] + Self.secondSeed + [0]
            try socket.send(Packet(sequence: 2, payload: switchTo).bytes)
            let answer = try FakeMySQLServer.read(socket)
            #expect(answer.sequence == 3)
            #expect(answer.payload == NativePassword.scramble(password: "secret", seed: Self.secondSeed))
            try socket.send(Packet(sequence: 4, payload: ServerBytes.ok).bytes)
            let ping = try FakeMySQLServer.read(socket)
            #expect(ping.payload == [0x0E] && ping.sequence == 0)
            try socket.send(Packet(sequence: 1, payload: ServerBytes.ok).bytes)
        }
        let connection = try MySQLConnection(server.configuration(), deadline: .after(seconds: 5))
        try connection.ping(deadline: .after(seconds: 5))
    }

    @Test(arguments: ["caching_sha2_password", "client_ed25519", "sha256_password"])
    func aSwitchToAnotherPluginIsAnErrorNamingIt(plugin: String) throws {
        let server = try FakeMySQLServer { socket in
            try socket.send(Packet(sequence: 0, payload: ServerBytes.handshake()).bytes)
            _ = try FakeMySQLServer.read(socket)
            try socket.send(Packet(sequence: 2, payload: [0xFE] + Array(plugin.utf8) + [0] + Self.secondSeed).bytes)
        }
        #expect(throws: MySQLError.unsupportedAuthentication(plugin)) {
            try MySQLConnection(server.configuration(), deadline: .after(seconds: 5))
        }
        #expect(MySQLError.unsupportedAuthentication(plugin).description.contains(plugin))
    }

    @Test func cachingSha2sFullAuthenticationIsRefusedByName() throws {
        let server = try FakeMySQLServer { socket in
            try socket.send(Packet(sequence: 0, payload: ServerBytes.handshake(plugin: "caching_sha2_password")).bytes)
            _ = try FakeMySQLServer.read(socket)
            try socket.send(Packet(sequence: 2, payload: [0x01, 0x04]).bytes)
        }
        #expect(throws: MySQLError.unsupportedAuthentication("caching_sha2_password")) {
            try MySQLConnection(server.configuration(), deadline: .after(seconds: 5))
        }
    }

    @Test func aWrongSequenceFromTheServerIsAnError() throws {
        let server = try FakeMySQLServer { socket in
            try socket.send(Packet(sequence: 0, payload: ServerBytes.handshake()).bytes)
            _ = try FakeMySQLServer.read(socket)
            try socket.send(Packet(sequence: 7, payload: ServerBytes.ok).bytes)
        }
        #expect(throws: MySQLError.outOfSequence(expected: 2, got: 7)) {
            try MySQLConnection(server.configuration(), deadline: .after(seconds: 5))
        }
    }

    @Test func anOversizedPacketFromTheServerIsRefused() throws {
        let server = try FakeMySQLServer { socket in try socket.send([0xFF, 0xFF, 0xFF, 0x00, 0x0A]) }
        var configuration = server.configuration()
        configuration.maxPacket = 1024
        #expect(throws: MySQLError.tooLarge(length: 0xFF_FFFF, limit: 1024)) {
            try MySQLConnection(configuration, deadline: .after(seconds: 5))
        }
    }

    @Test func aServerThatClosesMidPacketIsAnError() throws {
        let server = try FakeMySQLServer { socket in
            try socket.send(Array(Packet(sequence: 0, payload: ServerBytes.handshake()).bytes.prefix(30)))
            socket.close()
        }
        #expect(throws: MySQLError.truncated("the stream ended 30 bytes into a packet")) {
            try MySQLConnection(server.configuration(), deadline: .after(seconds: 5))
        }
    }

    @Test func aSilentServerTimesOutAtTheDeadline() throws {
        let server = try FakeMySQLServer { _ in usleep(3_000_000) }
        let start = Deadline.now
        #expect(throws: MySQLError.timedOut("waiting for the handshake")) {
            try MySQLConnection(server.configuration(), deadline: .after(seconds: 0.5))
        }
        let seconds = Double(Deadline.now.nanos - start.nanos) / 1e9
        #expect(seconds >= 0.45 && seconds < 2.5, "took \(seconds) s")
    }

    @Test func aRefusedConnectionSaysSo() throws {
        let port = freePort()
        let configuration = MySQLConfiguration(host: "127.0.0.1", port: port, user: "u", password: "", database: "")
        #expect(throws: MySQLError.connection("connection refused")) {
            try MySQLConnection(configuration, deadline: .after(seconds: 2))
        }
    }
}

extension Array where Element == UInt8 {
    func contains(subsequence: [UInt8]) -> Bool {
        guard subsequence.count <= count else { return false }
        return (0...(count - subsequence.count)).contains { Array(self[$0..<($0 + subsequence.count)]) == subsequence }
    }
}
