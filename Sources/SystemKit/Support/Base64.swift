/// Base64 with the URL-safe alphabet and no padding (RFC 4648 §5), and the standard alphabet for decoding.
public enum Base64 {
    private static let urlAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    private static let standardAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    public static func urlEncode(_ bytes: [UInt8]) -> String { encode(bytes, alphabet: urlAlphabet, pad: false) }
    public static func encode(_ bytes: [UInt8]) -> String { encode(bytes, alphabet: standardAlphabet, pad: true) }

    /// Appends the standard, padded encoding of `bytes` to `out`.
    public static func append(encoding bytes: [UInt8], to out: inout [UInt8]) {
        append(bytes, alphabet: standardAlphabet, pad: true, to: &out)
    }

    private static func encode(_ bytes: [UInt8], alphabet: [UInt8], pad: Bool) -> String {
        var out: [UInt8] = []
        append(bytes, alphabet: alphabet, pad: pad, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    private static func append(_ bytes: [UInt8], alphabet: [UInt8], pad: Bool, to out: inout [UInt8]) {
        out.reserveCapacity(out.count + (bytes.count + 2) / 3 * 4)
        var i = 0
        while i < bytes.count {
            let b0 = bytes[i], b1 = i + 1 < bytes.count ? bytes[i + 1] : 0, b2 = i + 2 < bytes.count ? bytes[i + 2] : 0
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 3) << 4 | b1 >> 4)])
            if i + 1 < bytes.count {
                out.append(alphabet[Int((b1 & 15) << 2 | b2 >> 6)])
            } else if pad {
                out.append(61)
            }
            if i + 2 < bytes.count { out.append(alphabet[Int(b2 & 63)]) } else if pad { out.append(61) }
            i += 3
        }
    }

    /// Decodes either alphabet, padded or not; nil for anything else.
    public static func decode(_ text: String) -> [UInt8]? {
        var text = text
        return text.withUTF8(decode)
    }

    /// Decodes base64 text given as its bytes.
    static func decode(_ text: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(text.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits: UInt32 = 0
        var symbols = 0
        for byte in text {
            let value: UInt8
            switch byte {
            case 0x41...0x5A: value = byte - 0x41
            case 0x61...0x7A: value = byte - 0x61 + 26
            case 0x30...0x39: value = byte - 0x30 + 52
            case 0x2B, 0x2D: value = 62
            case 0x2F, 0x5F: value = 63
            case 0x3D: continue
            default: return nil
            }
            accumulator = (accumulator << 6 | UInt32(value)) & 0xFFFFFF
            bits += 6
            symbols += 1
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> bits))
            }
        }
        guard symbols % 4 != 1 else { return nil }
        return out
    }
}
