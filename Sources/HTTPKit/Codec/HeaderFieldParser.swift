#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import SystemKit

enum HeaderFieldParser {
    /// RFC 9110 §5.6.2 tchar: letters, digits and ``!#$%&'*+-.^_`|~``, as bits of two words (bytes 0–63, 64–127).
    private static let tokenBitsLow: UInt64 = 0x03FF_6CFA_0000_0000
    private static let tokenBitsHigh: UInt64 = 0x57FF_FFFF_C7FF_FFFE

    @inline(__always) static func isTokenByte(_ b: UInt8) -> Bool {
        guard b < 128 else { return false }
        let bits = b < 64 ? tokenBitsLow : tokenBitsHigh
        return (bits >> UInt64(b & 63)) & 1 == 1
    }

    static func isToken(_ bytes: some Collection<UInt8>) -> Bool {
        !bytes.isEmpty && bytes.allSatisfy(isTokenByte)
    }

    /// Parses `name: value` lines (RFC 9112 §5). Rejects obs-fold, space before the colon and control bytes. Every
    /// line is checked; only the fields whose names `keep` accepts are made into strings.
    static func parse(
        _ buffer: [UInt8], lines: ArraySlice<Range<Int>>, maxCount: Int,
        keep: (UnsafeBufferPointer<UInt8>) -> Bool = { _ in true }
    ) throws -> HTTPHeaders {
        guard lines.count <= maxCount else { throw ParseError.headersTooLarge }
        var headers = HTTPHeaders()
        headers.reserveCapacity(lines.count)
        try buffer.withUnsafeBufferPointer { buffer in
            for line in lines {
                let bytes = UnsafeBufferPointer(rebasing: buffer[line])
                guard let first = bytes.first, first != 0x20, first != 0x09 else {
                    throw ParseError.malformed("obsolete line folding")
                }
                // The name is a token up to the colon: one pass finds the colon and checks the name.
                var colon = 0
                while colon < bytes.count, isTokenByte(bytes[colon]) { colon += 1 }
                guard colon < bytes.count, bytes[colon] == UInt8(ascii: ":") else {
                    if bytes[colon...].contains(UInt8(ascii: ":")) {
                        throw ParseError.malformed("invalid header field name")
                    }
                    throw ParseError.malformed("header field without ':'")
                }
                guard colon > 0 else { throw ParseError.malformed("invalid header field name") }
                let name = UnsafeBufferPointer(rebasing: bytes[..<colon])
                var valueStart = colon + 1
                var valueEnd = bytes.count
                while valueStart < valueEnd, bytes[valueStart] == 0x20 || bytes[valueStart] == 0x09 { valueStart += 1 }
                while valueEnd > valueStart, bytes[valueEnd - 1] == 0x20 || bytes[valueEnd - 1] == 0x09 {
                    valueEnd -= 1
                }
                let value = UnsafeBufferPointer(rebasing: bytes[valueStart..<valueEnd])
                guard !ByteScan.hasFieldValueControl(value) else {
                    throw ParseError.malformed("control character in header field value")
                }
                if keep(name) {
                    headers.add(String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self))
                }
            }
        }
        return headers
    }

    /// Whether the field decides how a message is framed or whether its connection stays open: the fields the
    /// parsers read for themselves and the writer sets itself.
    static func isFraming(_ name: String) -> Bool {
        var name = name
        return name.withUTF8(isFraming)
    }

    static func isFraming(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
        equalIgnoringCase(name, "content-length") || equalIgnoringCase(name, "transfer-encoding")
            || equalIgnoringCase(name, "connection")
    }

    private static func equalIgnoringCase(_ bytes: UnsafeBufferPointer<UInt8>, _ lowercase: StaticString) -> Bool {
        guard bytes.count == lowercase.utf8CodeUnitCount else { return false }
        let other = lowercase.utf8Start
        for index in 0..<bytes.count where asciiLower(bytes[index]) != other[index] { return false }
        return true
    }

    /// The body framing the header fields declare (RFC 9112 §6.3), rejecting ambiguous framing. `unframed` is the
    /// framing with neither field: no body for a request, the rest of the connection for a response.
    static func framing(of headers: HTTPHeaders, version: HTTPVersion, maxBody: Int?, unframed: BodyFraming = .none)
        throws -> BodyFraming
    {
        // One pass over the fields; token lists only for what is not a single plain value.
        var hasTransferEncoding = false, lengthFields = 0, firstLength = ""
        for index in headers.fields.indices {
            let name = headers.fields[index].name
            if HTTPHeaders.equalNames(name, "Transfer-Encoding") {
                hasTransferEncoding = true
            } else if HTTPHeaders.equalNames(name, "Content-Length") {
                if lengthFields == 0 { firstLength = headers.fields[index].value }
                lengthFields += 1
            }
        }
        if hasTransferEncoding {
            let codings = headers.tokens("Transfer-Encoding").map { $0.lowercased() }
            guard lengthFields == 0 else {
                throw ParseError.malformed("both Content-Length and Transfer-Encoding")
            }
            guard version != .http1_0 else { throw ParseError.malformed("Transfer-Encoding in HTTP/1.0") }
            guard codings.last == "chunked" else {
                throw ParseError.malformed("chunked is not the final transfer coding")
            }
            guard codings.count == 1 else {
                throw ParseError.unsupportedTransferCoding(codings.dropLast().joined(separator: ", "))
            }
            return .chunked
        }
        guard lengthFields > 0 else { return unframed }
        let length: Int
        if lengthFields == 1, let plain = plainDecimal(firstLength) {
            length = plain
        } else {
            // A list of equal values is one length (RFC 9110 §8.6).
            let lengths = headers.tokens("Content-Length")
            guard let first = lengths.first, lengths.allSatisfy({ $0 == first }) else {
                throw ParseError.malformed("conflicting Content-Length values")
            }
            guard let plain = plainDecimal(first) else { throw ParseError.malformed("invalid Content-Length") }
            length = plain
        }
        if let maxBody, length > maxBody { throw ParseError.bodyTooLarge }
        return length == 0 ? .none : .length(length)
    }
}
