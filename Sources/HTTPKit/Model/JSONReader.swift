#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import SystemKit

extension JSON {
    /// Reads one JSON text without building a tree: `body` walks it with a `JSONReader`, taking only what it needs.
    /// Whatever `body` leaves unread is still checked, so the text is accepted or rejected exactly as
    /// `parse` would.
    public static func read<T>(_ bytes: [UInt8], maxDepth: Int = 64, _ body: (inout JSONReader) throws -> T) throws -> T
    {
        try bytes.withUnsafeBufferPointer { bytes in
            var reader = JSONReader(parser: JSONParser(bytes: bytes, maxDepth: maxDepth))
            reader.parser.skipSpace()
            let start = reader.parser.index
            let result = try body(&reader)
            if reader.parser.index == start { try reader.skipValue() }
            reader.parser.skipSpace()
            guard reader.parser.index == bytes.count else {
                throw reader.parser.error("unexpected trailing characters")
            }
            return result
        }
    }
}

/// A cursor over one JSON text, for readers that want a few fields of a larger document (`JSON.read`). Each
/// `read…` call takes the value at the cursor; a member or element the callback does not read is skipped.
public struct JSONReader {
    var parser: JSONParser
    private var depth = 0

    init(parser: JSONParser) {
        self.parser = parser
    }

    /// An object member's name, valid during the callback that receives it.
    public struct Name {
        /// The name's bytes in the input when it has no escapes, else the decoded name.
        fileprivate let raw: UnsafeBufferPointer<UInt8>
        fileprivate let decoded: String?

        public static func == (name: Name, literal: StaticString) -> Bool {
            let expected = UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount)
            if let decoded = name.decoded { return decoded.utf8.elementsEqual(expected) }
            return name.raw.count == expected.count
                && (expected.isEmpty || memcmp(name.raw.baseAddress!, expected.baseAddress!, expected.count) == 0)
        }

        public var string: String { decoded ?? String(decoding: raw, as: UTF8.self) }
    }

    /// Calls `member` for each member of the object at the cursor, in order.
    public mutating func readObject(_ member: (Name, inout JSONReader) throws -> Void) throws {
        guard try enter(UInt8(ascii: "{"), UInt8(ascii: "}"), "an object") else { return }
        defer { depth -= 1 }
        while true {
            parser.skipSpace()
            guard parser.index < parser.bytes.count, parser.bytes[parser.index] == UInt8(ascii: "\"") else {
                throw parser.error("expected a key")
            }
            let name = try readName()
            parser.skipSpace()
            guard parser.index < parser.bytes.count, parser.bytes[parser.index] == UInt8(ascii: ":") else {
                throw parser.error("expected ':'")
            }
            parser.index += 1
            parser.skipSpace()
            let start = parser.index
            try member(name, &self)
            if parser.index == start { try skipValue() }
            guard try next(closing: UInt8(ascii: "}")) else { return }
        }
    }

    /// Calls `element` with the index and cursor of each element of the array at the cursor.
    public mutating func readArray(_ element: (Int, inout JSONReader) throws -> Void) throws {
        guard try enter(UInt8(ascii: "["), UInt8(ascii: "]"), "an array") else { return }
        defer { depth -= 1 }
        var count = 0
        while true {
            parser.skipSpace()
            let start = parser.index
            try element(count, &self)
            if parser.index == start { try skipValue() }
            count += 1
            guard try next(closing: UInt8(ascii: "]")) else { return }
        }
    }

    /// The string at the cursor.
    public mutating func readString() throws -> String {
        guard parser.index < parser.bytes.count, parser.bytes[parser.index] == UInt8(ascii: "\"") else {
            throw parser.error("expected a string")
        }
        return try parser.string()
    }

    /// The value at the cursor as a tree.
    public mutating func readValue() throws -> JSON {
        guard depth < parser.maxDepth else { throw parser.error("nested too deeply") }
        guard parser.index < parser.bytes.count else { throw parser.error("unexpected end") }
        switch parser.bytes[parser.index] {
        case UInt8(ascii: "{"):
            var members: [(String, JSON)] = []
            try readObject { name, reader in
                // Room for a typical object at once, instead of regrowing at 1, 2 and 4 members.
                if members.isEmpty { members.reserveCapacity(8) }
                members.append((name.string, try reader.readValue()))
            }
            return .object(members)
        case UInt8(ascii: "["):
            var items: [JSON] = []
            try readArray { _, reader in
                if items.isEmpty { items.reserveCapacity(4) }
                items.append(try reader.readValue())
            }
            return .array(items)
        default:
            return try parser.scalar()
        }
    }

    /// Checks the value at the cursor and moves past it, making nothing of it.
    public mutating func skipValue() throws {
        guard depth < parser.maxDepth else { throw parser.error("nested too deeply") }
        guard parser.index < parser.bytes.count else { throw parser.error("unexpected end") }
        switch parser.bytes[parser.index] {
        case UInt8(ascii: "{"): try readObject { _, _ in }
        case UInt8(ascii: "["): try readArray { _, _ in }
        case UInt8(ascii: "\""): try parser.skipString()
        case UInt8(ascii: "t"): try parser.literal("true")
        case UInt8(ascii: "f"): try parser.literal("false")
        case UInt8(ascii: "n"): try parser.literal("null")
        default: try parser.skipNumber()
        }
    }

    /// Enters the object or array at the cursor, one level deeper; false if it is empty, and then already left.
    private mutating func enter(_ open: UInt8, _ close: UInt8, _ what: String) throws -> Bool {
        guard depth < parser.maxDepth else { throw parser.error("nested too deeply") }
        guard parser.index < parser.bytes.count, parser.bytes[parser.index] == open else {
            throw parser.error("expected \(what)")
        }
        parser.index += 1
        parser.skipSpace()
        if parser.index < parser.bytes.count, parser.bytes[parser.index] == close {
            parser.index += 1
            return false
        }
        depth += 1
        return true
    }

    /// After a member or element: true at a comma, false at `closing` (both consumed).
    private mutating func next(closing: UInt8) throws -> Bool {
        parser.skipSpace()
        guard parser.index < parser.bytes.count else { throw parser.error("unexpected end") }
        switch parser.bytes[parser.index] {
        case UInt8(ascii: ","):
            parser.index += 1
            return true
        case closing:
            parser.index += 1
            return false
        default:
            throw parser.error(closing == UInt8(ascii: "}") ? "expected ',' or '}'" : "expected ',' or ']'")
        }
    }

    /// The key at the cursor: straight from the input when it is ASCII without escapes, else decoded and checked.
    private mutating func readName() throws -> Name {
        if let raw = parser.plainString() { return Name(raw: raw, decoded: nil) }
        return Name(raw: UnsafeBufferPointer(start: nil, count: 0), decoded: try parser.string())
    }
}

extension JSONParser {
    /// The contents of the string at the cursor, and the cursor moved past it, when it is ASCII without escapes:
    /// such a string needs no decoding or checking. Nil, and the cursor left, otherwise.
    mutating func plainString() -> UnsafeBufferPointer<UInt8>? {
        let (end, ascii) = ByteScan.jsonStringRun(bytes, from: index + 1)
        guard ascii, end < bytes.count, bytes[end] == UInt8(ascii: "\"") else { return nil }
        defer { index = end + 1 }
        return UnsafeBufferPointer(rebasing: bytes[(index + 1)..<end])
    }

    /// Moves past one valid string.
    mutating func skipString() throws {
        if plainString() == nil { _ = try string() }
    }
}
