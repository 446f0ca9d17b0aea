import SystemKit
/// Reads a message body framed by Content-Length, chunked coding (with trailers) or the end of the connection.
struct BodyDecoder {
    private enum State {
        case length(remaining: Int)
        case chunkSize(line: [UInt8])
        case chunkData(remaining: Int)
        case chunkDataEnd(sawCR: Bool)
        case trailers(line: [UInt8], total: Int)
        case untilClose
        case done
    }

    private var state: State
    private(set) var body: [UInt8] = []
    private(set) var trailers = HTTPHeaders()
    let maxBody: Int
    let limits: ParserLimits

    init(framing: BodyFraming, limits: ParserLimits, maxBody: Int) {
        self.limits = limits
        self.maxBody = maxBody
        switch framing {
        case .none: state = .done
        case .length(let n):
            state = .length(remaining: n)
            body.reserveCapacity(min(n, 1 << 16))
        case .chunked: state = .chunkSize(line: [])
        case .untilClose: state = .untilClose
        }
    }

    var isComplete: Bool {
        if case .done = state { return true }
        return false
    }

    /// Consumes bytes from `buffer[index...]`, advancing `index`. Returns true once the body is complete.
    mutating func consume(_ buffer: [UInt8], _ index: inout Int) throws -> Bool {
        while index < buffer.count {
            switch state {
            case .done:
                return true
            case .length(let remaining):
                let take = min(remaining, buffer.count - index)
                body.append(contentsOf: buffer[index..<index + take])
                index += take
                state = remaining == take ? .done : .length(remaining: remaining - take)
            case .untilClose:
                let take = buffer.count - index
                guard body.count + take <= maxBody else { throw ParseError.bodyTooLarge }
                body.append(contentsOf: buffer[index...])
                index = buffer.count
            case .chunkSize(var line):
                let byte = buffer[index]
                index += 1
                if byte != 0x0A {
                    line.append(byte)
                    guard line.count <= 4096 else { throw ParseError.malformed("chunk size line too long") }
                    state = .chunkSize(line: line)
                    continue
                }
                guard line.last == 0x0D else { throw ParseError.malformed("chunk size not terminated by CRLF") }
                line.removeLast()
                let size = try Self.chunkSize(line)
                if size == 0 {
                    state = .trailers(line: [], total: 0)
                } else {
                    guard body.count + size <= maxBody else { throw ParseError.bodyTooLarge }
                    state = .chunkData(remaining: size)
                }
            case .chunkData(let remaining):
                let take = min(remaining, buffer.count - index)
                body.append(contentsOf: buffer[index..<index + take])
                index += take
                state = remaining == take ? .chunkDataEnd(sawCR: false) : .chunkData(remaining: remaining - take)
            case .chunkDataEnd(let sawCR):
                let byte = buffer[index]
                index += 1
                if !sawCR {
                    guard byte == 0x0D else { throw ParseError.malformed("chunk data not followed by CRLF") }
                    state = .chunkDataEnd(sawCR: true)
                } else {
                    guard byte == 0x0A else { throw ParseError.malformed("chunk data not followed by CRLF") }
                    state = .chunkSize(line: [])
                }
            case .trailers(var line, let total):
                let byte = buffer[index]
                index += 1
                guard total + line.count < limits.maxHeaderBytes else { throw ParseError.headersTooLarge }
                if byte != 0x0A {
                    line.append(byte)
                    state = .trailers(line: line, total: total)
                    continue
                }
                guard line.last == 0x0D else { throw ParseError.malformed("trailer not terminated by CRLF") }
                line.removeLast()
                if line.isEmpty {
                    state = .done
                    return true
                }
                let fields = try HeaderFieldParser.parse(line, lines: [0..<line.count], maxCount: limits.maxHeaderCount)
                for (name, value) in fields { trailers.add(name, value) }
                guard trailers.count <= limits.maxHeaderCount else { throw ParseError.headersTooLarge }
                state = .trailers(line: [], total: total + line.count + 2)
            }
        }
        return isComplete
    }

    /// The end of the connection: completes a close-delimited body, fails any other unfinished one.
    mutating func finishAtEOF() throws {
        switch state {
        case .untilClose: state = .done
        case .done: break
        default: throw ParseError.malformed("connection closed before the body was complete")
        }
    }

    static func chunkSize(_ line: [UInt8]) throws -> Int {
        var end = line.count
        if let semicolon = line.firstIndex(of: UInt8(ascii: ";")) { end = semicolon }
        var digitsEnd = end
        while digitsEnd > 0, line[digitsEnd - 1] == 0x20 || line[digitsEnd - 1] == 0x09 { digitsEnd -= 1 }
        guard digitsEnd > 0, digitsEnd <= 15 else { throw ParseError.malformed("invalid chunk size") }
        var size = 0
        for byte in line[0..<digitsEnd] {
            guard let digit = hexValue(byte) else { throw ParseError.malformed("invalid chunk size") }
            size = size << 4 | Int(digit)
        }
        return size
    }
}
