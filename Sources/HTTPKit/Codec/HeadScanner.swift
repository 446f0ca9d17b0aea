#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import SystemKit

/// Finds the end of a message head (start line and fields, CRLF-terminated) in a growing buffer, remembering
/// how far it has looked so that drip-fed input is scanned once.
struct HeadScanner {
    private(set) var lines: [Range<Int>] = []
    private var lineStart: Int?
    private var position: Int?

    mutating func reset() {
        lines.removeAll(keepingCapacity: true)
        lineStart = nil
        position = nil
    }

    mutating func rebase(by offset: Int) {
        // In place: a new array would give up the storage kept between messages.
        for index in lines.indices {
            lines[index] = (lines[index].lowerBound - offset)..<(lines[index].upperBound - offset)
        }
        lineStart = lineStart.map { $0 - offset }
        position = position.map { $0 - offset }
    }

    /// Scans `buffer[start...]`. Returns the index after the blank line when the head is complete, nil when more
    /// bytes are needed. Leading empty lines are skipped (RFC 9112 §2.2). `firstLineLimit` and `totalLimit`
    /// bound what is kept.
    mutating func scan(
        _ buffer: [UInt8], from start: Int, firstLineLimit: Int, firstLineError: ParseError, totalLimit: Int
    ) throws -> Int? {
        var i = position ?? start
        var currentLineStart = lineStart ?? start
        defer {
            position = i
            lineStart = currentLineStart
        }
        return try buffer.withUnsafeBufferPointer { bytes -> Int? in
            guard let base = bytes.baseAddress else { return nil }
            // A line at a time with memchr; the errors are the ones a byte-by-byte scan meets first.
            while i < bytes.count {
                let lf = memchr(base + i, 0x0A, bytes.count - i).map {
                    base.distance(to: $0.assumingMemoryBound(to: UInt8.self))
                }
                let segmentEnd = lf ?? bytes.count
                // A CR not followed by LF fails at the byte after it; a limit fails at the first byte beyond it.
                var firstError = Int.max
                var error = ParseError.malformed("bare CR")
                let crFrom = max(i - 1, currentLineStart)
                if segmentEnd - 1 > crFrom, let cr = memchr(base + crFrom, 0x0D, segmentEnd - 1 - crFrom) {
                    firstError = base.distance(to: cr.assumingMemoryBound(to: UInt8.self)) + 1
                }
                let limitAt = max(i, lines.isEmpty ? currentLineStart + firstLineLimit : start + totalLimit)
                if limitAt < segmentEnd, limitAt < firstError {
                    firstError = limitAt
                    error = lines.isEmpty ? firstLineError : ParseError.headersTooLarge
                }
                if firstError < segmentEnd {
                    i = firstError
                    throw error
                }
                guard let lf else {
                    i = bytes.count
                    return nil
                }
                guard lf > currentLineStart, bytes[lf - 1] == 0x0D else {
                    i = lf
                    throw ParseError.malformed("line not terminated by CRLF")
                }
                let line = currentLineStart..<(lf - 1)
                i = lf + 1
                currentLineStart = i
                if line.isEmpty {
                    if lines.isEmpty { continue }
                    return i
                }
                lines.append(line)
            }
            return nil
        }
    }
}
