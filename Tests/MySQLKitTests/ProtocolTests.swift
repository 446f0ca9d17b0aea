import SystemKit
import Testing

@testable import MySQLKit

@Suite struct ProtocolTests {
    func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String($0, radix: 16) }.map { $0.count == 1 ? "0" + $0 : $0 }.joined()
    }

    @Test func nativePasswordScrambleUndoesWithTheStoredHash() {
        // The server stores SHA1(SHA1(password)) and checks SHA1(token XOR SHA1(seed + stored)) == stored.
        let seed = Array(UInt8(1)...UInt8(20)), password = "password"
        let token = NativePassword.scramble(password: password, seed: seed)
        let stored = SHA1.hash(SHA1.hash(Array(password.utf8)))
        let stage1 = zip(token, SHA1.hash(seed + stored)).map { $0 ^ $1 }
        #expect(token.count == 20 && SHA1.hash(stage1) == stored)
        #expect(NativePassword.scramble(password: "", seed: seed).isEmpty)
        // MySQL's stored form of "password", as `SELECT PASSWORD('password')` shows it.
        #expect(hex(stored).uppercased() == "2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19")
    }

    @Test func aHandshakeGivesSeedPluginAndCapabilities() throws {
        let handshake = try ServerHandshake(ServerBytes.handshake())
        #expect(handshake.serverVersion == "5.5.5-10.11.19-MariaDB")
        #expect(handshake.connectionID == 42)
        #expect(handshake.seed == Array(1...20))
        #expect(handshake.plugin == "mysql_native_password")
        #expect(handshake.capabilities.contains(.deprecateEOF))
    }

    @Test func everyTruncationOfAHandshakeIsACleanError() {
        let bytes = ServerBytes.handshake()
        for length in 0..<bytes.count - 1 {
            // A handshake cut after the plugin name's first byte still parses (the NUL is optional); not earlier.
            if length >= bytes.count - "mysql_native_password".count { continue }
            #expect(throws: MySQLError.self, "cut at \(length)") { try ServerHandshake(Array(bytes.prefix(length))) }
        }
    }

    @Test func anOldOrWeakServerIsRefusedByName() {
        #expect(throws: MySQLError.unsupportedServer("handshake protocol 9, not 10")) {
            try ServerHandshake([9] + ServerBytes.handshake().dropFirst())
        }
        #expect(throws: MySQLError.unsupportedServer("no protocol 4.1 (server too old)")) {
            try ServerHandshake(ServerBytes.handshake(capabilities: [.secureConnection, .pluginAuth]))
        }
        #expect(throws: MySQLError.server(code: 1040, state: "08004", message: "Too many connections")) {
            try ServerHandshake(ServerBytes.error(1040, "08004", "Too many connections"))
        }
    }

    @Test func errPacketsNameCodeStateAndMessage() {
        let error = ServerReply.error(
            ServerBytes.error(1146, "42S02", "Table 'test.ratings' doesn't exist"), capabilities: [])
        #expect(error == .server(code: 1146, state: "42S02", message: "Table 'test.ratings' doesn't exist"))
        #expect(error.description == "server error 1146 (42S02): Table 'test.ratings' doesn't exist")
        #expect(
            ServerReply.error([0xFF, 0x15, 0x04, 0x41], capabilities: [])
                == .server(code: 1045, state: "HY000", message: "A"))
        #expect(ServerReply.error([0xFF, 0x15], capabilities: []) == .truncated("error packet"))
    }

    @Test func authRepliesAreRecognised() throws {
        #expect(try ServerReply(ServerBytes.ok, capabilities: []) == .ok(status: 2))
        let switchTo = [0xFE] + Array("mysql_native_password".utf8) + [0] + Array(UInt8(21)...UInt8(40)) + [0]
        #expect(
            try ServerReply(switchTo, capabilities: [])
                == .authSwitch(plugin: "mysql_native_password", seed: Array(21...40)))
        #expect(throws: MySQLError.unsupportedAuthentication("mysql_old_password")) {
            try ServerReply([0xFE], capabilities: [])
        }
        #expect(try ServerReply([0x01, 0x04], capabilities: []) == .authMoreData([4]))
        #expect(throws: MySQLError.malformed("unexpected reply header 0x7")) {
            try ServerReply([0x07], capabilities: [])
        }
        #expect(throws: MySQLError.truncated("empty reply")) { try ServerReply([], capabilities: []) }
    }

    static let rows: [[String?]] = [["1", "5"], ["2", nil], ["3", String(repeating: "x", count: 300)]]

    /// Decodes a whole response from bytes cut at `cuts`, through the packet decoder and the result-set reader.
    func readResponse(_ bytes: [UInt8], cuts: [Int], capabilities: Capabilities) throws -> ResultSet? {
        var decoder = PacketDecoder()
        decoder.expected = 1
        var reader = QueryResponseReader(capabilities: capabilities, maxRows: 100)
        var start = 0
        for cut in cuts + [bytes.count] where cut >= start {
            decoder.append(bytes[start..<cut])
            start = cut
            while let packet = try decoder.next() {
                if let result = try reader.consume(packet.payload) { return result }
            }
        }
        return nil
    }

    @Test(arguments: [false, true])
    func aResultSetReadsTheSameWholeByteByByteAndSplit(deprecateEOF: Bool) throws {
        let capabilities: Capabilities = deprecateEOF ? [.protocol41, .deprecateEOF] : [.protocol41]
        let bytes = ServerBytes.framed(
            ServerBytes.resultSet(columns: ["ReviewID", "Rating"], rows: Self.rows, deprecateEOF: deprecateEOF))
        let expected = ResultSet(columns: ["ReviewID", "Rating"], rows: Self.rows)
        #expect(try readResponse(bytes, cuts: [], capabilities: capabilities) == expected)
        #expect(try readResponse(bytes, cuts: Array(0..<bytes.count), capabilities: capabilities) == expected)
        for cut in 0...bytes.count {
            #expect(try readResponse(bytes, cuts: [cut], capabilities: capabilities) == expected, "split at \(cut)")
        }
        #expect(expected.value("Rating", row: 0) == "5" && expected.value("Rating", row: 1) == nil)
        #expect(expected.value("Rating", row: 9) == nil && expected.value("Nope", row: 0) == nil)
    }

    @Test(arguments: [false, true])
    func everyTruncatedPacketOfAResultSetIsACleanError(deprecateEOF: Bool) {
        let capabilities: Capabilities = deprecateEOF ? [.protocol41, .deprecateEOF] : [.protocol41]
        let packets = ServerBytes.resultSet(
            columns: ["ReviewID", "Rating"], rows: Self.rows, deprecateEOF: deprecateEOF)
        for (index, packet) in packets.enumerated() {
            for length in 0..<packet.count {
                var reader = QueryResponseReader(capabilities: capabilities, maxRows: 100)
                var failed = false
                do {
                    for earlier in packets.prefix(index) { _ = try reader.consume(earlier) }
                    _ = try reader.consume(Array(packet.prefix(length)))
                } catch {
                    failed = true
                }
                // A row cut at a value boundary is still a row, with fewer values: that must fail too.
                let endMayBeShort = index == packets.count - 1 && length >= 1
                #expect(failed || endMayBeShort, "packet \(index) cut at \(length)")
            }
        }
    }

    @Test func statementsWithoutRowsAndServerErrorsInTheMiddle() throws {
        var reader = QueryResponseReader(capabilities: [.protocol41], maxRows: 10)
        #expect(try reader.consume(ServerBytes.ok) == ResultSet(columns: [], rows: []))
        var failing = QueryResponseReader(capabilities: [.protocol41, .deprecateEOF], maxRows: 10)
        _ = try failing.consume([1])
        _ = try failing.consume(ServerBytes.column("Rating"))
        _ = try failing.consume(ServerBytes.row(["5"]))
        #expect(throws: MySQLError.server(code: 1317, state: "70100", message: "Query execution was interrupted")) {
            try failing.consume(ServerBytes.error(1317, "70100", "Query execution was interrupted"))
        }
    }

    @Test func whatThisClientDoesNotDoIsRefusedByName() throws {
        var infile = QueryResponseReader(capabilities: [.protocol41], maxRows: 10)
        #expect(throws: MySQLError.self) { try infile.consume([0xFB] + Array("/etc/passwd".utf8)) }
        var multi = QueryResponseReader(capabilities: [.protocol41], maxRows: 10)
        #expect(throws: MySQLError.malformed("more than one result set (one statement per query)")) {
            try multi.consume([0x00, 0x00, 0x00, 0x0A, 0x00, 0x00, 0x00])
        }
        var many = QueryResponseReader(capabilities: [.protocol41, .deprecateEOF], maxRows: 2)
        _ = try many.consume([1])
        _ = try many.consume(ServerBytes.column("n"))
        _ = try many.consume(ServerBytes.row(["1"]))
        _ = try many.consume(ServerBytes.row(["2"]))
        #expect(throws: MySQLError.malformed("more than 2 rows")) { try many.consume(ServerBytes.row(["3"])) }
        var wide = QueryResponseReader(capabilities: [.protocol41], maxRows: 2, maxColumns: 3)
        #expect(throws: MySQLError.malformed("4 columns, over 3")) { try wide.consume([4]) }
        var extra = QueryResponseReader(capabilities: [.protocol41, .deprecateEOF], maxRows: 2)
        _ = try extra.consume([1])
        _ = try extra.consume(ServerBytes.column("n"))
        #expect(throws: MySQLError.malformed("row has bytes after its 1 values")) {
            try extra.consume(ServerBytes.row(["1", "2"]))
        }
        var oldForm = QueryResponseReader(capabilities: [.protocol41], maxRows: 2)
        _ = try oldForm.consume([1])
        _ = try oldForm.consume(ServerBytes.column("n"))
        #expect(throws: MySQLError.malformed("EOF expected after the column definitions")) {
            try oldForm.consume(ServerBytes.row(["1"]))
        }
    }

    @Test func lengthEncodedIntegersOfEveryWidth() throws {
        for n in [0, 250, 251, 65_535, 65_536, 16_777_215, 16_777_216, Int(UInt32.max) + 1] {
            var r = PayloadReader(ServerBytes.lengthEncoded(n), "test")
            #expect(try r.lengthEncoded() == UInt64(n))
            #expect(r.atEnd)
        }
        var null = PayloadReader([0xFB], "test")
        #expect(try null.lengthEncoded() == nil)
        var bad = PayloadReader([0xFF], "test")
        #expect(throws: MySQLError.self) { try bad.lengthEncoded() }
        var huge = PayloadReader([0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x41], "test")
        #expect(throws: MySQLError.truncated("test")) { try huge.lengthEncodedBytes() }
    }
}
