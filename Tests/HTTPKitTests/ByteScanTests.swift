@testable import HTTPKit
import Testing
@testable import SystemKit
@testable import ServiceKit

/// The word-at-a-time scans against the byte-at-a-time rule they replace, with the interesting byte at every
/// position of inputs that straddle several words.
@Suite struct ByteScanTests {
    static let fillers: [UInt8] = [0x61, 0x20, 0x7E, 0xC3, 0x80, 0xFF, 0x21, 0x5B]

    func naiveJSONRun(_ bytes: [UInt8]) -> (Int, Bool) {
        var ascii = true
        for (index, byte) in bytes.enumerated() {
            if byte == 0x22 || byte == 0x5C || byte < 0x20 { return (index, ascii) }
            if byte >= 0x80 { ascii = false }
        }
        return (bytes.count, ascii)
    }

    @Test func jsonStringRunStopsWhereTheByteLoopDid() {
        for length in 0..<26 {
            for filler in Self.fillers {
                for stopAt in -1..<length {
                    for stop: UInt8 in [0x22, 0x5C, 0x00, 0x1F, 0x0A] {
                        var bytes = [UInt8](repeating: 0x61, count: length)
                        if length > 0 { bytes[length / 2] = filler }
                        if stopAt >= 0 { bytes[stopAt] = stop }
                        let (end, ascii) = bytes.withUnsafeBufferPointer { ByteScan.jsonStringRun($0, from: 0) }
                        let expected = naiveJSONRun(bytes)
                        #expect(end == expected.0 && ascii == expected.1, "\(bytes)")
                    }
                }
            }
        }
    }

    @Test func fieldValueControlsAreFoundAnywhereButTabsAreFine() {
        for length in 0..<26 {
            for position in -1..<length {
                for special: UInt8 in [0x09, 0x00, 0x0A, 0x0D, 0x1F, 0x7F, 0x80, 0xFF, 0x20] {
                    var bytes = [UInt8](repeating: 0x41, count: length)
                    if position >= 0 { bytes[position] = special }
                    let expected = bytes.contains { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F }
                    #expect(bytes.withUnsafeBufferPointer { ByteScan.hasFieldValueControl($0) } == expected, "\(bytes)")
                }
            }
        }
    }

    @Test func jsonStringsWithEscapesAndUnicodeParse() throws {
        let text = #"["plain", "a\"b\\c\nd", "caf\u00e9 é €", "\ud83d\ude00 and more than eight bytes", ""]"#
        let json = try JSON.parse(text)
        #expect(
            json.arrayValue?.compactMap(\.stringValue) == [
                "plain", "a\"b\\c\nd", "café é €", "😀 and more than eight bytes", "",
            ])
        #expect(throws: JSON.ParseError.self) { try JSON.parse([0x22, 0x61, 0x01, 0x22]) }
        #expect(throws: JSON.ParseError.self) {
            try JSON.parse([0x22, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0xC3, 0x22])
        }
    }
}
