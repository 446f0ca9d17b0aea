import SystemKit
/// An ordered list of header fields. Lookup ignores case; the original spelling and order are kept.
public struct HTTPHeaders: Sendable, Sequence, ExpressibleByDictionaryLiteral, Equatable {
    public private(set) var fields: [(name: String, value: String)] = []

    public init() {}
    public init(_ fields: [(String, String)]) {
        self.fields = fields.map { (name: $0.0, value: $0.1) }
    }
    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(elements)
    }

    public var count: Int { fields.count }
    public var isEmpty: Bool { fields.isEmpty }

    public mutating func reserveCapacity(_ count: Int) {
        fields.reserveCapacity(count)
    }

    public mutating func add(_ name: String, _ value: String) {
        fields.append((name: name, value: value))
    }

    /// Removes every field with this name and appends one with the value.
    public mutating func replaceOrAdd(_ name: String, _ value: String) {
        remove(name)
        add(name, value)
    }

    public mutating func remove(_ name: String) {
        fields.removeAll { Self.equalNames($0.name, name) }
    }

    // Lookups walk the fields by index: iterating copies of the (name, value) pairs retains and releases both
    // strings of every field, for every lookup.

    public func contains(_ name: String) -> Bool {
        for index in fields.indices where Self.equalNames(fields[index].name, name) { return true }
        return false
    }

    /// The first value of the field, or nil.
    public subscript(_ name: String) -> String? {
        for index in fields.indices where Self.equalNames(fields[index].name, name) { return fields[index].value }
        return nil
    }

    /// How many fields have this name.
    public func count(_ name: String) -> Int {
        var count = 0
        for index in fields.indices where Self.equalNames(fields[index].name, name) { count += 1 }
        return count
    }

    /// Every value of the field, in order.
    public func values(_ name: String) -> [String] {
        var values: [String] = []
        for index in fields.indices where Self.equalNames(fields[index].name, name) {
            values.append(fields[index].value)
        }
        return values
    }

    /// The comma-separated list elements of every value of the field, trimmed (RFC 9110 §5.6.1).
    public func tokens(_ name: String) -> [String] {
        var tokens: [String] = []
        for index in fields.indices where Self.equalNames(fields[index].name, name) {
            let value = fields[index].value
            // Most values are one token already (`Content-Length: 42`, `Connection: close`): no splitting, no copy.
            if !value.isEmpty, allUTF8(value, { $0 != UInt8(ascii: ",") && $0 != 0x20 && $0 != 0x09 }) {
                tokens.append(value)
                continue
            }
            for part in value.split(separator: ",") {
                let token = trimOWS(part)
                if !token.isEmpty { tokens.append(token) }
            }
        }
        return tokens
    }

    /// The values of every cookie with this name in the `Cookie` fields (RFC 6265 §5.4), trimmed.
    public func cookies(named name: String) -> [String] {
        values("Cookie").flatMap { $0.split(separator: ";") }.compactMap { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, trimOWS(parts[0]) == name else { return nil }
            return trimOWS(parts[1])
        }
    }

    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> {
        fields.makeIterator()
    }

    public static func == (lhs: HTTPHeaders, rhs: HTTPHeaders) -> Bool {
        lhs.fields.count == rhs.fields.count
            && zip(lhs.fields, rhs.fields).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }

    static func equalNames(_ a: String, _ b: String) -> Bool {
        guard a.utf8.count == b.utf8.count else { return false }
        // Over contiguous bytes: iterating two UTF-8 views in step is many times slower, and this runs for every
        // header lookup.
        if let equal = a.utf8.withContiguousStorageIfAvailable({ x in
            b.utf8.withContiguousStorageIfAvailable { y in
                for index in 0..<x.count where asciiLower(x[index]) != asciiLower(y[index]) { return false }
                return true
            }
        }), let equal {
            return equal
        }
        for (x, y) in zip(a.utf8, b.utf8) where asciiLower(x) != asciiLower(y) { return false }
        return true
    }
}

@inline(__always) func asciiLower(_ byte: UInt8) -> UInt8 {
    (byte >= 65 && byte <= 90) ? byte | 0x20 : byte
}

public func trimOWS(_ text: Substring) -> String {
    var slice = text
    while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
    while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
    return String(slice)
}
