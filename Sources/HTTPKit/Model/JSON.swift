import SystemKit
/// A JSON value that keeps object key order and number text, so bodies round-trip exactly.
public enum JSON: Sendable, Equatable {
    case null
    case bool(Bool)
    /// The number as written; always valid JSON number text.
    case number(String)
    case string(String)
    case array([JSON])
    case object([(String, JSON)])

    public static func int(_ value: Int) -> JSON { .number(String(value)) }

    public static func == (lhs: JSON, rhs: JSON) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.number(a), .number(b)): return a == b
        case let (.string(a), .string(b)): return a == b
        case let (.array(a), .array(b)): return a == b
        case let (.object(a), .object(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    public subscript(key: String) -> JSON? {
        if case .object(let members) = self { return members.first { $0.0 == key }?.1 }
        return nil
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var intValue: Int? {
        if case .number(let text) = self { return Int(text) }
        return nil
    }

    public var arrayValue: [JSON]? {
        if case .array(let items) = self { return items }
        return nil
    }

    public var isObject: Bool {
        if case .object = self { return true }
        return false
    }

    // MARK: Serialising

    public enum Style: Sendable {
        /// `{"a":1,"b":[1,2]}`, as JavaScript's JSON.stringify and Ruby's to_json write.
        case compact
        /// A space after each `,` and `:`: `{"a": 1, "b": [1, 2]}` (what the original productpage, Python, sends).
        case spaced
    }

    public func serialized(_ style: Style = .compact) -> String {
        String(decoding: bytes(style), as: UTF8.self)
    }

    /// The UTF-8 text of the value, written once into storage of the size it can reach at most.
    public func bytes(_ style: Style = .compact) -> [UInt8] {
        [UInt8].written(upTo: writeBound) { out in emit(into: &out, style: style) }
    }

    /// The most `emit` can produce in either style: every string escaped at its longest.
    var writeBound: Int {
        switch self {
        case .null, .bool: return 5
        case .number(let n): return n.utf8.count
        case .string(let s): return jsonBound(s)
        case .array(let items):
            var bound = 2
            for i in items.indices { bound += items[i].writeBound + 2 }
            return bound
        case .object(let members):
            var bound = 2
            for i in members.indices { bound += jsonBound(members[i].0) + 4 + members[i].1.writeBound }
            return bound
        }
    }

    func emit(into out: inout some ByteSink, style: Style) {
        switch self {
        case .null: out.append(literal: "null")
        case .bool(let b): b ? out.append(literal: "true") : out.append(literal: "false")
        case .number(let n): out.append(utf8: n)
        case .string(let s): out.append(jsonString: s)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            // By index: iterating would copy (retain and release) every element.
            for i in items.indices {
                if i > 0 { JSON.separator(&out, style) }
                items[i].emit(into: &out, style: style)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for i in members.indices {
                if i > 0 { JSON.separator(&out, style) }
                out.append(jsonString: members[i].0)
                out.append(UInt8(ascii: ":"))
                if style == .spaced { out.append(UInt8(ascii: " ")) }
                members[i].1.emit(into: &out, style: style)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    @inline(__always) static func separator(_ out: inout some ByteSink, _ style: Style) {
        out.append(UInt8(ascii: ","))
        if style == .spaced { out.append(UInt8(ascii: " ")) }
    }

    /// Appends a JSON string literal with the escapes JSON requires.
    public static func writeString(_ s: String, to out: inout [UInt8]) {
        out.append(jsonString: s)
    }

    public static func quoted(_ s: String) -> String {
        var out: [UInt8] = []
        writeString(s, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: Parsing

    public struct ParseError: Error, Sendable, CustomStringConvertible {
        public let offset: Int
        public let reason: String
        public var description: String { "invalid JSON at byte \(offset): \(reason)" }
    }

    /// Parses one JSON text (RFC 8259), nesting at most `maxDepth` deep.
    public static func parse(_ bytes: [UInt8], maxDepth: Int = 64) throws -> JSON {
        try read(bytes, maxDepth: maxDepth) { try $0.readValue() }
    }

    public static func parse(_ text: String) throws -> JSON { try parse(Array(text.utf8)) }
}

/// The scanner under `JSONReader`: reads over the bytes without copies or reference counting while `JSON.read`
/// keeps them alive.
struct JSONParser {
    let bytes: UnsafeBufferPointer<UInt8>
    let maxDepth: Int
    var index = 0

    init(bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    func error(_ reason: String) -> JSON.ParseError { JSON.ParseError(offset: index, reason: reason) }

    mutating func skipSpace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    /// The string, literal or number at the cursor; objects and arrays are read by `JSONReader`.
    mutating func scalar() throws -> JSON {
        guard index < bytes.count else { throw error("unexpected end") }
        switch bytes[index] {
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default: return try number()
        }
    }

    mutating func literal(_ word: StaticString) throws {
        let w = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        guard index + w.count <= bytes.count,
            UnsafeBufferPointer(rebasing: bytes[index..<index + w.count]).elementsEqual(w)
        else {
            throw error("unexpected character")
        }
        index += w.count
    }

    mutating func number() throws -> JSON {
        let start = index
        try skipNumber()
        return .number(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self))
    }

    /// Moves past one valid number.
    mutating func skipNumber() throws {
        func digits() -> Int {
            let s = index
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 { index += 1 }
            return index - s
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count else { throw error("unexpected end") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else if digits() == 0 {
            throw error("unexpected character")
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { throw error("expected digits after '.'") }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                index += 1
            }
            guard digits() > 0 else { throw error("expected exponent digits") }
        }
    }

    /// `bytes` as a string, or an error if they are not UTF-8.
    static func validated(_ bytes: UnsafeBufferPointer<UInt8>, _ parser: JSONParser) throws -> String {
        let text = String(decoding: bytes, as: UTF8.self)
        // Decoding replaces invalid sequences, which changes the bytes.
        guard text.utf8.elementsEqual(bytes) else { throw parser.error("invalid UTF-8") }
        return text
    }

    mutating func string() throws -> String {
        index += 1
        // Most strings have no escapes: take them straight from the input.
        let (end, ascii) = ByteScan.jsonStringRun(bytes, from: index)
        if end < bytes.count, bytes[end] == UInt8(ascii: "\"") {
            // ASCII needs no validation, and the generic validating initialiser costs many times the copy.
            let run = UnsafeBufferPointer(rebasing: bytes[index..<end])
            let s = ascii ? String(decoding: run, as: UTF8.self) : try Self.validated(run, self)
            index = end + 1
            return s
        }
        var out: [UInt8] = []
        while true {
            guard index < bytes.count else { throw error("unterminated string") }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return try out.withUnsafeBufferPointer { try Self.validated($0, self) }
            }
            if byte < 0x20 { throw error("control character in string") }
            if byte != UInt8(ascii: "\\") {
                out.append(byte)
                index += 1
                continue
            }
            index += 1
            guard index < bytes.count else { throw error("unterminated escape") }
            let escape = bytes[index]
            index += 1
            switch escape {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var code = try hex4()
                if (0xD800..<0xDC00).contains(code) {
                    guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"),
                        bytes[index + 1] == UInt8(ascii: "u")
                    else { throw error("unpaired surrogate") }
                    index += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired surrogate") }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00..<0xE000).contains(code) {
                    throw error("unpaired surrogate")
                }
                guard let scalar = Unicode.Scalar(code) else { throw error("invalid escape") }
                out.append(contentsOf: Array(String(Character(scalar)).utf8))
            default: throw error("invalid escape")
            }
        }
    }

    mutating func hex4() throws -> UInt32 {
        guard index + 4 <= bytes.count else { throw error("short \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let h = hexValue(bytes[index]) else { throw error("invalid \\u escape") }
            value = value << 4 | UInt32(h)
            index += 1
        }
        return value
    }
}
