/// Appending text to byte buffers with one copy: generic appends from a `String.UTF8View` and `String(Int)`
/// conversions are a measurable share of every response and log line.
extension Array where Element == UInt8 {
    @inline(__always) mutating func appendCRLF() {
        append(0x0D)
        append(0x0A)
    }

    /// The UTF-8 bytes of `text`.
    @inline(__always) mutating func append(utf8 text: String) {
        var text = text
        text.withUTF8 { append(contentsOf: $0) }
    }

    /// The decimal digits of `value` (with a `-` when negative).
    mutating func append(decimal value: Int) {
        if value < 0 { append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var divisor: UInt = 1
        while divisor <= magnitude / 10 { divisor *= 10 }
        repeat {
            append(UInt8(truncatingIfNeeded: 0x30 + magnitude / divisor))
            magnitude %= divisor
            divisor /= 10
        } while divisor > 0
    }

    /// The bytes of a literal.
    @inline(__always) mutating func append(literal text: StaticString) {
        // A typed buffer: it is copied with memcpy, where a raw one is appended byte by byte.
        append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// `value` in at least `width` digits, zero-padded.
    mutating func append(decimal value: Int, width: Int) {
        var digits = 1, rest = value / 10
        while rest > 0 { digits += 1; rest /= 10 }
        for _ in digits..<Swift.max(digits, width) { append(0x30) }
        append(decimal: value)
    }
}

/// True when every UTF-8 byte of `text` satisfies `accept`, read over contiguous storage.
@inline(__always) func allUTF8(_ text: String, _ accept: (UInt8) -> Bool) -> Bool {
    var text = text
    return text.withUTF8 { $0.allSatisfy(accept) }
}
