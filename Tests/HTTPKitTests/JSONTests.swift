import HTTPKit
import Testing
import SystemKit
import ServiceKit

@Suite struct JSONTests {
    @Test func roundTripKeepsOrderAndNumbers() throws {
        let text = #"{"b":1,"a":[true,false,null,-0.5e3,"x\"\u00e9\n"],"c":{}}"#
        let value = try JSON.parse(text)
        #expect(value.serialized() == #"{"b":1,"a":[true,false,null,-0.5e3,"x\"é\n"],"c":{}}"#)
        #expect(value.serialized(.spaced) == #"{"b": 1, "a": [true, false, null, -0.5e3, "x\"é\n"], "c": {}}"#)
    }

    @Test(arguments: ["{", "{\"a\"}", "[1,]", "01", "\"\\x\"", "nul", "{} x", "\"\u{1}\"", "\"\\ud800\""])
    func rejectsInvalid(_ text: String) {
        #expect(throws: JSON.ParseError.self) { try JSON.parse(text) }
    }

    @Test func stringsMustBeUTF8WithOrWithoutEscapes() throws {
        #expect(try JSON.parse(Array(#""é ü 😀""#.utf8)) == .string("é ü 😀"))
        #expect(try JSON.parse(Array(#""a\n é""#.utf8)) == .string("a\n é"))
        for invalid: [UInt8] in [[0x22, 0xFF, 0x22], [0x22, 0xC3, 0x22], [0x22, 0x5C, 0x6E, 0xE2, 0x82, 0x22]] {
            #expect(throws: JSON.ParseError.self) { try JSON.parse(invalid) }
        }
    }

    @Test func base64RoundTripsEveryLengthInBothAlphabets() {
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 * 37 + 11) }
            #expect(Base64.decode(Base64.encode(bytes)) == bytes)
            #expect(Base64.decode(Base64.urlEncode(bytes)) == bytes)
        }
        #expect(Base64.decode("YSB2YWx1ZSB0byByZWFkIGJhY2s=") == Array("a value to read back".utf8))
        #expect(Base64.decode("A") == nil)
        #expect(Base64.decode("ab$c") == nil)
    }

    @Test func depthIsBounded() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: JSON.ParseError.self) { try JSON.parse(deep) }
    }
}
