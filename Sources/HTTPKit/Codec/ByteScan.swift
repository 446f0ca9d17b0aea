import SystemKit
/// Scans that look at eight bytes at a time (SWAR): the JSON string reader and the header checks run over every
/// byte of every body and head, and a byte loop spends several instructions per byte.
enum ByteScan {
    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highBits: UInt64 = 0x8080_8080_8080_8080

    /// High bit set in the lowest byte of `word` below `limit` (≤ 128); higher flags may be spurious.
    @inline(__always) private static func below(_ word: UInt64, _ limit: UInt8) -> UInt64 {
        (word &- ones &* UInt64(limit)) & ~word & highBits
    }

    /// High bit set in the lowest byte of `word` equal to `byte`; higher flags may be spurious.
    @inline(__always) private static func equal(_ word: UInt64, _ byte: UInt8) -> UInt64 {
        below(word ^ (ones &* UInt64(byte)), 1)
    }

    @inline(__always) private static func word(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> UInt64 {
        UInt64(littleEndian: UnsafeRawPointer(bytes.baseAddress! + index).loadUnaligned(as: UInt64.self))
    }

    /// The index of the first `"`, `\` or control byte at or after `start` (or `bytes.count`), and whether every
    /// byte before it is ASCII.
    static func jsonStringRun(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> (end: Int, ascii: Bool) {
        var index = start
        var high: UInt64 = 0
        while index + 8 <= bytes.count {
            let w = word(bytes, at: index)
            let stop = below(w, 0x20) | equal(w, 0x22) | equal(w, 0x5C)
            if stop != 0 {
                let end = index + stop.trailingZeroBitCount / 8
                // Only the bytes before the stop count for `ascii`.
                let before = end == index ? 0 : w & (UInt64.max >> UInt64(64 - 8 * (end - index)))
                return (end, (high | before) & highBits == 0)
            }
            high |= w
            index += 8
        }
        var ascii = high & highBits == 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0x22 || byte == 0x5C || byte < 0x20 { break }
            if byte >= 0x80 { ascii = false }
            index += 1
        }
        return (index, ascii)
    }

    /// Whether `bytes` hold a control byte other than HTAB, or DEL: not allowed in a header field value.
    static func hasFieldValueControl(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var index = 0
        while index + 8 <= bytes.count {
            let w = word(bytes, at: index)
            if below(w, 0x20) | equal(w, 0x7F) != 0 {
                // Rare: a tab, or a real control byte; look at these eight one by one.
                for byte in UnsafeBufferPointer(rebasing: bytes[index..<index + 8])
                where (byte < 0x20 && byte != 0x09) || byte == 0x7F {
                    return true
                }
            }
            index += 8
        }
        return UnsafeBufferPointer(rebasing: bytes[index...]).contains { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F }
    }
}
