/// Something bytes are appended to: a byte array, or a `ByteWriter` over storage sized beforehand. The text
/// writers below serve both: generic appends from a `String.UTF8View` and `String(Int)` conversions were a
/// measurable share of every response and log line.
public protocol ByteSink {
    mutating func append(_ byte: UInt8)
    mutating func append(bytes: UnsafeBufferPointer<UInt8>)
}

extension Array: ByteSink where Element == UInt8 {
    @inlinable public mutating func append(bytes: UnsafeBufferPointer<UInt8>) {
        // A typed buffer: it is copied with memcpy, where a raw one is appended byte by byte.
        append(contentsOf: bytes)
    }
}

extension ByteSink {
    @inlinable public mutating func appendCRLF() {
        append(0x0D)
        append(0x0A)
    }

    /// The UTF-8 bytes of `text`.
    @inlinable public mutating func append(utf8 text: String) {
        var text = text
        text.withUTF8 { append(bytes: $0) }
    }

    /// The bytes of a literal.
    @inlinable public mutating func append(literal text: StaticString) {
        append(bytes: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// The decimal digits of `value` (with a `-` when negative), zero-padded to at least `width` (≤ 20) digits.
    @inlinable public mutating func append(decimal value: Int, width: Int = 1) {
        precondition(width <= 20)
        if value < 0 { append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            // Two digits per division, from a table of "00" to "99".
            var start = digits.count
            while magnitude >= 100 {
                let pair = Int(magnitude % 100) &* 2
                magnitude /= 100
                start -= 2
                digits[start] = digitPairs[pair]
                digits[start + 1] = digitPairs[pair + 1]
            }
            if magnitude >= 10 {
                start -= 2
                digits[start] = digitPairs[Int(magnitude) &* 2]
                digits[start + 1] = digitPairs[Int(magnitude) &* 2 + 1]
            } else {
                start -= 1
                digits[start] = UInt8(truncatingIfNeeded: 0x30 &+ magnitude)
            }
            while digits.count - start < width {
                start -= 1
                digits[start] = 0x30
            }
            append(bytes: UnsafeBufferPointer(rebasing: digits[start...]))
        }
    }

    /// `text` as a JSON string literal, quotes included: at most `jsonBound(text)` bytes.
    @inlinable public mutating func append(jsonString text: String) {
        append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { bytes in
            // Runs that need no escape are copied whole.
            var runStart = 0
            for index in bytes.indices {
                let byte = bytes[index]
                guard byte < 0x20 || byte == 0x22 || byte == 0x5C else { continue }
                append(bytes: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
                runStart = index + 1
                append(0x5C)
                switch byte {
                case 0x22, 0x5C: append(byte)
                case 0x0A: append(UInt8(ascii: "n"))
                case 0x0D: append(UInt8(ascii: "r"))
                case 0x09: append(UInt8(ascii: "t"))
                case 0x08: append(UInt8(ascii: "b"))
                case 0x0C: append(UInt8(ascii: "f"))
                default:
                    append(literal: "u00")
                    append(hexDigit(byte >> 4))
                    append(hexDigit(byte & 0xF))
                }
            }
            append(bytes: UnsafeBufferPointer(rebasing: bytes[runStart...]))
        }
        append(UInt8(ascii: "\""))
    }
}

/// "00", "01", … "99" as 200 bytes.
@usableFromInline let digitPairs: [UInt8] = Array(
    (0..<100).map { (n: Int) -> String in n < 10 ? "0\(n)" : "\(n)" }.joined().utf8)

@inlinable func hexDigit(_ value: UInt8) -> UInt8 {
    value < 10 ? 0x30 + value : 0x57 + value
}

/// The most `append(jsonString:)` writes for `text`: every byte escaped as `\u00XX`, and the quotes.
public func jsonBound(_ text: String) -> Int { 6 * text.utf8.count + 2 }

/// Writes through a pointer into storage sized beforehand, for the bytes every request produces (the response
/// head, the log line): an append is a bounds check and a copy, where an array append also calls out to check
/// uniqueness and capacity. Writing past the bound stops the process instead of corrupting memory.
public struct ByteWriter: ByteSink {
    @usableFromInline let base: UnsafeMutablePointer<UInt8>
    @usableFromInline let capacity: Int
    /// The bytes written so far.
    public var count = 0

    @inlinable public init(_ buffer: UnsafeMutableBufferPointer<UInt8>) {
        base = buffer.baseAddress!
        capacity = buffer.count
    }

    /// Room for `n` more bytes, or a crash: the caller's bound was wrong.
    @inlinable func claim(_ n: Int) -> UnsafeMutablePointer<UInt8> {
        precondition(n <= capacity - count, "ByteWriter bound exceeded")
        return base + count
    }

    @inlinable public mutating func append(_ byte: UInt8) {
        claim(1).pointee = byte
        count += 1
    }

    @inlinable public mutating func append(bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        let n = bytes.count
        let target = UnsafeMutableRawPointer(claim(n)), from = UnsafeRawPointer(source)
        // Most pieces are a few bytes (a literal, a number, a name): two overlapping word copies cost less than a
        // call to memcpy.
        switch n {
        case 8...16:
            let head = from.loadUnaligned(as: UInt64.self),
                tail = from.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
            target.storeBytes(of: head, as: UInt64.self)
            target.storeBytes(of: tail, toByteOffset: n - 8, as: UInt64.self)
        case 4..<8:
            let head = from.loadUnaligned(as: UInt32.self),
                tail = from.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self)
            target.storeBytes(of: head, as: UInt32.self)
            target.storeBytes(of: tail, toByteOffset: n - 4, as: UInt32.self)
        case 1..<4:
            target.storeBytes(of: source[0], as: UInt8.self)
            target.storeBytes(of: source[n / 2], toByteOffset: n / 2, as: UInt8.self)
            target.storeBytes(of: source[n - 1], toByteOffset: n - 1, as: UInt8.self)
        default:
            target.copyMemory(from: from, byteCount: n)
        }
        count += n
    }

    @inlinable public mutating func append(contentsOf bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { append(bytes: $0) }
    }
}

extension ByteWriter {
    /// Runs `write` over scratch storage of `bound` bytes (on the stack when small), then `use` over what it wrote.
    @inlinable public static func withWritten<T>(
        upTo bound: Int, _ write: (inout ByteWriter) throws -> Void, use: (UnsafeBufferPointer<UInt8>) throws -> T
    ) rethrows -> T {
        try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Swift.max(bound, 1)) { scratch in
            var writer = ByteWriter(scratch)
            try write(&writer)
            return try use(UnsafeBufferPointer(rebasing: scratch[0..<writer.count]))
        }
    }
}

extension Array where Element == UInt8 {
    /// A new array of what `body` writes, at most `bound` bytes.
    @inlinable public static func written(upTo bound: Int, _ body: (inout ByteWriter) throws -> Void) rethrows
        -> [UInt8]
    {
        try ByteWriter.withWritten(upTo: bound, body) { bytes in
            // Grown from empty: this allocation is specialised for bytes, where `init(unsafeUninitializedCapacity:)`
            // looks its storage type up at run time.
            var out: [UInt8] = []
            out.reserveCapacity(bytes.count)
            out.append(contentsOf: bytes)
            return out
        }
    }
}

/// True when every UTF-8 byte of `text` satisfies `accept`, read over contiguous storage.
@inlinable public func allUTF8(_ text: String, _ accept: (UInt8) -> Bool) -> Bool {
    var text = text
    return text.withUTF8 { $0.allSatisfy(accept) }
}
