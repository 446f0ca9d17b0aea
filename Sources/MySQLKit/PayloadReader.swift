/// Reads the protocol's integer and string encodings from one payload; running past its end throws, never traps.
struct PayloadReader {
    let bytes: [UInt8]
    var offset = 0
    let context: String

    init(_ bytes: [UInt8], _ context: String) {
        self.bytes = bytes
        self.context = context
    }

    var remaining: Int { bytes.count - offset }
    var atEnd: Bool { offset >= bytes.count }

    func peek() -> UInt8? { atEnd ? nil : bytes[offset] }

    mutating func take(_ n: Int) throws(MySQLError) -> ArraySlice<UInt8> {
        guard n >= 0, n <= remaining else { throw .truncated(context) }
        defer { offset += n }
        return bytes[offset..<(offset + n)]
    }

    mutating func skip(_ n: Int) throws(MySQLError) { _ = try take(n) }

    mutating func uint(_ n: Int) throws(MySQLError) -> UInt64 {
        var value: UInt64 = 0
        for (i, byte) in try take(n).enumerated() { value |= UInt64(byte) << (8 * UInt64(i)) }
        return value
    }

    mutating func u8() throws(MySQLError) -> UInt8 { UInt8(try uint(1)) }
    mutating func u16() throws(MySQLError) -> Int { Int(try uint(2)) }
    mutating func u32() throws(MySQLError) -> UInt32 { UInt32(try uint(4)) }

    /// A length-encoded integer; nil for 0xFB, which in a row means NULL.
    mutating func lengthEncoded() throws(MySQLError) -> UInt64? {
        let first = try u8()
        switch first {
        case 0..<0xFB: return UInt64(first)
        case 0xFB: return nil
        case 0xFC: return try uint(2)
        case 0xFD: return try uint(3)
        case 0xFE: return try uint(8)
        default: throw .malformed("\(context): 0xFF is not a length")
        }
    }

    /// A length-encoded string, nil for NULL.
    mutating func lengthEncodedBytes() throws(MySQLError) -> ArraySlice<UInt8>? {
        guard let length = try lengthEncoded() else { return nil }
        guard length <= UInt64(remaining) else { throw .truncated(context) }
        return try take(Int(length))
    }

    mutating func lengthEncodedString() throws(MySQLError) -> String {
        String(decoding: try lengthEncodedBytes() ?? [], as: UTF8.self)
    }

    /// Bytes up to a NUL (consumed); without a NUL, the rest of the payload when `orRest`, else an error.
    mutating func nulTerminated(orRest: Bool = false) throws(MySQLError) -> ArraySlice<UInt8> {
        if let end = bytes[offset...].firstIndex(of: 0) {
            defer { offset = end + 1 }
            return bytes[offset..<end]
        }
        guard orRest else { throw .truncated("\(context): no NUL") }
        return try take(remaining)
    }

    mutating func rest() -> ArraySlice<UInt8> {
        defer { offset = bytes.count }
        return bytes[min(offset, bytes.count)...]
    }
}

extension Array where Element == UInt8 {
    mutating func appendInteger(_ value: UInt64, bytes n: Int) {
        for i in 0..<n { append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(i)))) }
    }
}
