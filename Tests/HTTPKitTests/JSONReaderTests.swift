import Testing

@testable import HTTPKit
@testable import SystemKit
@testable import ServiceKit

@Suite struct JSONReaderTests {
    static let etcdRange = #"""
        {"header":{"cluster_id":"2086831020734302442","member_id":"7059799375513725458","revision":"3","raft_term":"2"},
         "kvs":[{"key":"L2E=","create_revision":"2","mod_revision":"3","version":"2","value":"eA=="},
                {"key":"L2I=","value":"eQ=="}],"count":"2","more":false}
        """#

    @Test func readsChosenFieldsAndSkipsTheRest() throws {
        var revision = "", values: [String] = [], seen: [String] = []
        try JSON.read(Array(Self.etcdRange.utf8)) { reader in
            try reader.readObject { name, reader in
                seen.append(name.string)
                if name == "header" {
                    try reader.readObject { name, reader in if name == "revision" { revision = try reader.readString() }
                    }
                } else if name == "kvs" {
                    try reader.readArray { index, reader in
                        try reader.readObject { name, reader in
                            if name == "value" { values.append("\(index):" + (try reader.readString())) }
                        }
                    }
                }
            }
        }
        #expect(revision == "3")
        #expect(values == ["0:eA==", "1:eQ=="])
        #expect(seen == ["header", "kvs", "count", "more"])
    }

    @Test func readValueGivesTheSubtreeParseWould() throws {
        let text = Array(#"{"a":1,"b":{"c":[true,null,"x\u00e9"],"d":-2.5e3},"e":"z"}"#.utf8)
        let tree = try JSON.parse(text)
        var b: JSON?
        try JSON.read(text) { reader in
            try reader.readObject { name, reader in if name == "b" { b = try reader.readValue() } }
        }
        #expect(b == tree["b"])
    }

    @Test func escapedNamesAreComparedDecoded() throws {
        var matched = false
        try JSON.read(Array(#"{"re\u0076ision":"7"}"#.utf8)) { reader in
            try reader.readObject { name, reader in
                matched = name == "revision" && name.string == "revision"
                _ = try reader.readString()
            }
        }
        #expect(matched)
    }

    /// Skipping checks exactly what parsing checks, and fails at the same byte.
    @Test(arguments: [
        "{", "{\"a\"}", "[1,]", "01", "\"\\x\"", "nul", "{} x", "\"\u{1}\"", "\"\\ud800\"", "{\"a\":1,}", "[1 2]", "-",
        "1.",
        "1e", "\"abc", "{\"a\" 1}", "{1:2}", "[tru]", " {\"a\":[{}, [], \"\\n\", 0, -1.5E+2, true, false, null]} ",
        "\"é\"", "[]", "{}",
    ])
    func skippingAcceptsAndRejectsAsParsingDoes(_ text: String) {
        let bytes = Array(text.utf8)
        let parsed = Result { try JSON.parse(bytes) }
        let skipped = Result { try JSON.read(bytes) { _ in } }
        switch (parsed, skipped) {
        case (.success, .success): break
        case (.failure(let a as JSON.ParseError), .failure(let b as JSON.ParseError)):
            #expect(a.offset == b.offset, "\(a) vs \(b)")
        default: Issue.record("parse: \(parsed), read: \(skipped)")
        }
    }

    @Test func invalidUTF8IsRejectedWhenSkipped() {
        for invalid: [UInt8] in [
            [0x22, 0xFF, 0x22], [0x5B, 0x22, 0xC3, 0x22, 0x5D], [0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D],
        ] {
            #expect(throws: JSON.ParseError.self) { try JSON.read(invalid) { _ in } }
        }
    }

    @Test func depthIsBoundedWhenSkippingAndReading() {
        let deep = Array((String(repeating: "[", count: 100) + String(repeating: "]", count: 100)).utf8)
        #expect(throws: JSON.ParseError.self) { try JSON.read(deep, maxDepth: 64) { _ in } }
        #expect(throws: JSON.ParseError.self) {
            try JSON.read(deep, maxDepth: 64) { reader in
                try reader.readArray { _, reader in _ = try reader.readValue() }
            }
        }
        #expect(throws: Never.self) { try JSON.read(deep, maxDepth: 101) { _ in } }
    }

    @Test func readingTheWrongKindIsAnError() {
        #expect(throws: JSON.ParseError.self) {
            try JSON.read(Array("[1]".utf8)) { reader in try reader.readObject { _, _ in } }
        }
        #expect(throws: JSON.ParseError.self) {
            try JSON.read(Array("1".utf8)) { reader in _ = try reader.readString() }
        }
        #expect(throws: JSON.ParseError.self) {
            try JSON.read(Array(#"{"a":"x"}"#.utf8)) { reader in
                try reader.readObject { _, reader in
                    _ = try reader.readString()
                    _ = try reader.readString()
                }
            }
        }
    }
}
