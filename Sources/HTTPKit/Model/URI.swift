import SystemKit
/// Splits a request target into path and query and decodes their parts.
public enum URI {
    /// Path and query of an origin-form or absolute-form target (`http://host/p?q` gives `/p`, `q`).
    public static func split(target: String) -> (path: String, query: String) {
        // The common case, a path without a query, keeps the target's storage.
        if target.utf8.first == UInt8(ascii: "/"), allUTF8(target, { $0 != UInt8(ascii: "?") }) { return (target, "") }
        let utf8 = target.utf8
        var start = utf8.startIndex
        if utf8.first != UInt8(ascii: "/") {
            let scheme = target.hasPrefix("http://") ? 7 : target.hasPrefix("https://") ? 8 : 0
            if scheme > 0 {
                let authority = utf8.index(start, offsetBy: scheme)
                start =
                    utf8[authority...].firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") }
                    ?? utf8.endIndex
                if start == utf8.endIndex || utf8[start] == UInt8(ascii: "?") {
                    let query = start == utf8.endIndex ? "" : String(target[utf8.index(after: start)...])
                    return ("/", query)
                }
            }
        }
        guard let mark = utf8[start...].firstIndex(of: UInt8(ascii: "?")) else { return (String(target[start...]), "") }
        // Past the "?" byte, not the character: a combining mark after it would go with it.
        return (String(target[start..<mark]), String(target[utf8.index(after: mark)...]))
    }

    /// Decodes `%XX` escapes; with `plusAsSpace`, also `+` (form encoding). Nil for a bad escape or bad UTF-8.
    public static func percentDecode(_ text: some StringProtocol, plusAsSpace: Bool = false) -> String? {
        text.utf8.withContiguousStorageIfAvailable { percentDecode(bytes: $0, plusAsSpace: plusAsSpace) }
            ?? Array(text.utf8).withUnsafeBufferPointer { percentDecode(bytes: $0, plusAsSpace: plusAsSpace) }
    }

    /// `percentDecode` over UTF-8 bytes (a path segment the router holds).
    static func percentDecode(bytes: UnsafeBufferPointer<UInt8>, plusAsSpace: Bool = false) -> String? {
        guard bytes.contains(where: { $0 == 0x25 || (plusAsSpace && $0 == 0x2B) }) else {
            return String(decoding: bytes, as: UTF8.self)
        }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            let byte = bytes[i]
            if byte == 0x25 {
                guard i + 2 < bytes.count, let hi = hexValue(bytes[i + 1]), let lo = hexValue(bytes[i + 2]) else {
                    return nil
                }
                out.append(hi << 4 | lo)
                i += 3
            } else {
                out.append(plusAsSpace && byte == 0x2B ? 0x20 : byte)
                i += 1
            }
        }
        return String(validating: out, as: UTF8.self)
    }

    /// Percent-encodes everything but RFC 3986 unreserved characters.
    public static func percentEncode(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            if isUnreserved(byte) {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += "%"
                out.unicodeScalars.append(Unicode.Scalar(hexDigits[Int(byte >> 4)]))
                out.unicodeScalars.append(Unicode.Scalar(hexDigits[Int(byte & 0xF)]))
            }
        }
        return out
    }

    /// Parses `a=1&b=2` (form or query encoding). Undecodable pairs are skipped.
    public static func parseForm(_ text: String) -> [(String, String)] {
        text.split(separator: "&").compactMap { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = percentDecode(parts[0], plusAsSpace: true) else { return nil }
            let value = parts.count > 1 ? percentDecode(parts[1], plusAsSpace: true) : ""
            return value.map { (name, $0) }
        }
    }

    static func isUnreserved(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
            || b == 0x2D || b == 0x2E || b == 0x5F || b == 0x7E
    }
    static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)
}

@inline(__always) func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case 0x30...0x39: return byte - 0x30
    case 0x41...0x46: return byte - 0x41 + 10
    case 0x61...0x66: return byte - 0x61 + 10
    default: return nil
    }
}
