/// The padding SHA-1 and SHA-256 share (FIPS 180-4 §5.1.1): the message, 0x80, zeros and its bit length, cut into
/// 64-byte blocks of 16 big-endian words.
enum MessageBlocks {
    static func words(_ message: [UInt8]) -> [[UInt32]] {
        var data = message
        data.append(0x80)
        while data.count % 64 != 56 { data.append(0) }
        let bitLength = UInt64(message.count) * 8
        for shift in stride(from: 56, through: 0, by: -8) {
            data.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift)))
        }
        return stride(from: 0, to: data.count, by: 64).map { chunk in
            (0..<16).map { i in
                let b = chunk + i * 4
                return UInt32(data[b]) << 24 | UInt32(data[b + 1]) << 16 | UInt32(data[b + 2]) << 8
                    | UInt32(data[b + 3])
            }
        }
    }
}
