#if canImport(Glibc)
import Glibc
#endif
@testable import HTTPKit
import Testing
@testable import SystemKit
@testable import ServiceKit

/// The writers behind every response head and log line: storage is sized beforehand, so the bounds are
/// tested at their worst case.
@Suite struct ByteWriterTests {
    @Test func jsonStringsAreEscapedWithinTheirBound() throws {
        var worst = ""
        for byte in UInt8(0)..<0x20 { worst.unicodeScalars.append(Unicode.Scalar(byte)) }
        worst += "\"\\é€"
        let written = [UInt8].written(upTo: jsonBound(worst)) { $0.append(jsonString: worst) }
        let text = String(decoding: written, as: UTF8.self)
        #expect(text.hasPrefix(#""\u0000\u0001"#))
        #expect(text.contains(#"\b\t\n\u000b\f\r\u000e"#))
        #expect(text.hasSuffix(#"\u001f\"\\é€""#))
        #expect(try JSON.parse(written).stringValue == worst)
        // The array writer gives the same bytes.
        var array: [UInt8] = []
        JSON.writeString(worst, to: &array)
        #expect(array == written)
    }

    /// JSON text is written into storage sized by `writeBound`: the worst case (every byte escaped, the wider
    /// spaced style, nesting, empty containers) fits and parses back to the same value.
    @Test func jsonValuesFitTheirBoundInBothStyles() throws {
        let nasty = String(decoding: (UInt8(0)..<0x20).map { $0 } + [0x22, 0x5C], as: UTF8.self)
        let value = JSON.object([
            (
                nasty,
                .array([.string(nasty), .null, .bool(false), .bool(true), .number("-1.5e3"), .array([]), .object([])])
            ),
            ("", .object([("a", .string(nasty)), (nasty, .array([.string(""), .string(nasty)]))])),
        ])
        for style in [JSON.Style.compact, .spaced] {
            let bytes = value.bytes(style)
            #expect(bytes.count <= value.writeBound)
            #expect(try JSON.parse(bytes) == value)
        }
        #expect(JSON.array([.int(1), .int(2)]).bytes(.spaced) == Array("[1, 2]".utf8))
    }

    @Test func decimalsArePaddedAndSigned() {
        let written = [UInt8].written(upTo: 80) { out in
            out.append(decimal: 0)
            out.append(literal: " ")
            out.append(decimal: 7, width: 3)
            out.append(literal: " ")
            out.append(decimal: -42)
            out.append(literal: " ")
            out.append(decimal: Int.max)
            out.append(literal: " ")
            out.append(decimal: Int.min)
        }
        #expect(String(decoding: written, as: UTF8.self) == "0 007 -42 9223372036854775807 -9223372036854775808")
        for value in [1, 9, 10, 11, 99, 100, 101, 999, 1000, 12345, 100_000, 987_654_321] {
            for width in [1, 3, 8] {
                let text = String(
                    decoding: [UInt8].written(upTo: 40) { $0.append(decimal: value, width: width) }, as: UTF8.self)
                let plain = String(value)
                #expect(text == String(repeating: "0", count: max(0, width - plain.count)) + plain)
            }
        }
    }

    @Test func chunkedAndHeadResponsesAreFramed() throws {
        var response = Response.text("abcdefghij")
        response.chunkSize = 4
        let chunked = try MessageWriter.response(response, keepAlive: true)
        #expect(
            String(decoding: chunked, as: UTF8.self).hasSuffix(
                "Transfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n4\r\nefgh\r\n2\r\nij\r\n0\r\n\r\n"))
        let head = try MessageWriter.response(.text("abcdefghij"), version: .http1_0, keepAlive: true, isHead: true)
        #expect(String(decoding: head, as: UTF8.self).hasSuffix("Content-Length: 10\r\nConnection: keep-alive\r\n\r\n"))
    }

    /// Framing and connection fields a handler or caller sets are dropped: the writer sets its own.
    @Test func writersSetFramingFieldsThemselves() throws {
        var response = Response.text("four")
        for (name, value) in [
            ("content-length", "999"), ("Transfer-Encoding", "gzip"), ("CONNECTION", "upgrade"), ("X-Kept", "1"),
        ] {
            response.headers.add(name, value)
        }
        let head = String(decoding: try MessageWriter.response(response, keepAlive: true), as: UTF8.self).lowercased()
        #expect(head.components(separatedBy: "content-length:").count == 2)
        #expect(head.contains("content-length: 4\r\n"))
        #expect(!head.contains("transfer-encoding") && !head.contains("connection") && !head.contains("999"))
        #expect(head.contains("x-kept: 1\r\n"))
        let request = try MessageWriter.request(
            method: .get, target: "/", host: "h:1", headers: ["HOST": "other", "Content-Length": "5", "X-Kept": "1"],
            body: [], keepAlive: true
        )
        #expect(String(decoding: request, as: UTF8.self) == "GET / HTTP/1.1\r\nHost: h:1\r\nX-Kept: 1\r\n\r\n")
    }

    /// A request line full of characters that need escapes still gives one parseable JSON line.
    @Test func requestLogLineIsOneJSONLineWhateverItCarries() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]) }
        let logger = Logger(service: "svc\"", version: "v\n1", fd: fds[1])
        let odd = "\u{01}\"\\\n" + String(repeating: "\u{1F}", count: 300)
        logger.logRequest(
            method: "GET", route: odd, path: "/a\"b", status: 404, durationMicros: 12_345, bytes: 17,
            requestID: odd, traceID: "", remote: "[::1]:5"
        )
        logger.flush()
        close(fds[1])
        let bytes = readPipe(fds[0], seconds: 5)
        #expect(bytes.last == 0x0A)
        #expect(bytes.filter { $0 == 0x0A }.count == 1)
        let line = try JSON.parse(Array(bytes.dropLast()))
        #expect(line["service"]?.stringValue == "svc\"")
        #expect(line["version"]?.stringValue == "v\n1")
        #expect(line["route"]?.stringValue == odd)
        #expect(line["x_request_id"]?.stringValue == odd)
        #expect(line["path"]?.stringValue == "/a\"b")
        #expect(line["status"]?.intValue == 404)
        #expect(String(decoding: bytes, as: UTF8.self).contains(#","duration_ms":12.345,"bytes":17,"#))
    }
}
