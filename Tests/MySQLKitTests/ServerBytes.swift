@testable import MySQLKit

/// Builders for what a MySQL server sends, for tests that need bytes a real server would (or never would) send.
enum ServerBytes {
    static func lengthEncoded(_ n: Int) -> [UInt8] {
        switch n {
        case 0..<251: return [UInt8(n)]
        case 251..<65_536: return [0xFC, UInt8(n & 0xFF), UInt8(n >> 8)]
        case 65_536..<16_777_216: return [0xFD, UInt8(n & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n >> 16)]
        default: var b: [UInt8] = [0xFE]; b.appendInteger(UInt64(n), bytes: 8); return b
        }
    }

    static func string(_ s: String) -> [UInt8] { lengthEncoded(s.utf8.count) + Array(s.utf8) }

    static func handshake(
        seed: [UInt8] = Array(1...20), plugin: String = "mysql_native_password",
        capabilities: Capabilities = [.protocol41, .secureConnection, .pluginAuth, .connectWithDatabase, .deprecateEOF]
    ) -> [UInt8] {
        var p: [UInt8] = [10] + Array("5.5.5-10.11.19-MariaDB".utf8) + [0]
        p.appendInteger(42, bytes: 4)
        p += seed.prefix(8) + [0]
        p.appendInteger(UInt64(capabilities.rawValue & 0xFFFF), bytes: 2)
        p += [45, 2, 0]
        p.appendInteger(UInt64(capabilities.rawValue >> 16), bytes: 2)
        p.append(UInt8(seed.count + 1))
        p += [UInt8](repeating: 0, count: 10)
        p += seed.dropFirst(8) + [0]
        p += Array(plugin.utf8) + [0]
        return p
    }

    static let ok: [UInt8] = [0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00]

    static func error(_ code: Int, _ state: String, _ message: String) -> [UInt8] {
        [0xFF, UInt8(code & 0xFF), UInt8(code >> 8), UInt8(ascii: "#")] + Array(state.utf8) + Array(message.utf8)
    }

    static func column(_ name: String) -> [UInt8] {
        var p = string("def") + string("test") + string("ratings") + string("ratings") + string(name) + string(name)
        p += [0x0C, 0x3F, 0x00, 0x0B, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00]
        return p
    }

    static func eof(status: Int = 2) -> [UInt8] { [0xFE, 0x00, 0x00, UInt8(status & 0xFF), UInt8(status >> 8)] }
    static func endOK(status: Int = 2) -> [UInt8] {
        [0xFE, 0x00, 0x00, UInt8(status & 0xFF), UInt8(status >> 8), 0, 0]
    }

    static func row(_ values: [String?]) -> [UInt8] { values.flatMap { $0.map(string) ?? [0xFB] } }

    /// A whole text result set's payloads, in the old (EOF) or the CLIENT_DEPRECATE_EOF form.
    static func resultSet(columns: [String], rows: [[String?]], deprecateEOF: Bool, status: Int = 2) -> [[UInt8]] {
        var packets = [lengthEncoded(columns.count)] + columns.map(column)
        if !deprecateEOF { packets.append(eof()) }
        packets += rows.map(row)
        packets.append(deprecateEOF ? endOK(status: status) : eof(status: status))
        return packets
    }

    /// Payloads framed with sequence numbers from `first`.
    static func framed(_ payloads: [[UInt8]], first: UInt8 = 1) -> [UInt8] {
        payloads.enumerated().flatMap { Packet(sequence: first &+ UInt8($0.offset), payload: $0.element).bytes }
    }
}
