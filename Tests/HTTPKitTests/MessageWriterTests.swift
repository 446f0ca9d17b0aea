#if canImport(Glibc)
import Glibc
#endif
@testable import HTTPKit
import Testing
import TestSupport
@testable import SystemKit
@testable import ServiceKit

@Suite struct MessageWriterTests {
    @Test func writerRejectsHeaderInjection() {
        var response = Response.text("x")
        response.headers.add("X-Bad", "a\r\nSet-Cookie: evil=1")
        #expect(throws: MessageWriter.InvalidHeader.self) {
            try MessageWriter.response(response, keepAlive: true)
        }
        #expect(throws: MessageWriter.InvalidHeader.self) {
            try MessageWriter.request(
                method: .get, target: "/", host: "h", headers: ["X": "a\nb"], body: [], keepAlive: true)
        }
    }

    @Test func headResponseKeepsLengthWithoutBody() throws {
        let bytes = try MessageWriter.response(.text("hello"), keepAlive: true, isHead: true)
        #expect(
            droppingDate(String(decoding: bytes, as: UTF8.self))
                == "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 5\r\n\r\n")
    }

    @Test func everyResponseCarriesTheCurrentDate() throws {
        let before = time(nil)
        let text = String(decoding: try MessageWriter.response(.text("x"), keepAlive: true), as: UTF8.self)
        let after = time(nil)
        let line = try #require(text.split(separator: "\r\n").first { $0.hasPrefix("Date: ") })
        let value = String(line.dropFirst(6))
        #expect(isIMFFixdate(value))
        #expect([before, after].map { HTTPDate.format(Int($0)) }.contains(value))
        let refused = String(decoding: MessageWriter.errorReply(.badRequest, message: "x"), as: UTF8.self)
        #expect(droppingDate(refused) != refused)
    }

    @Test func theDateIsFormattedAsRFC9110Shows() {
        #expect(HTTPDate.format(784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.format(0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(HTTPDate.format(1_798_761_599) == "Thu, 31 Dec 2026 23:59:59 GMT")
    }

    @Test func aHandlersOwnDateIsKept() throws {
        var response = Response.text("x")
        response.headers.add("Date", "Sun, 06 Nov 1994 08:49:37 GMT")
        let text = String(decoding: try MessageWriter.response(response, keepAlive: true), as: UTF8.self)
        #expect(text.components(separatedBy: "Date: ").count == 2)
        #expect(text.contains("Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"))
    }

    @Test func theDateIsFormattedOnceASecondNotPerResponse() throws {
        let start = time(nil)
        let before = HTTPDate.formatted.load(ordering: .relaxed)
        for _ in 0..<5000 { _ = try MessageWriter.response(.text("x"), keepAlive: true) }
        let seconds = Int(time(nil) - start) + 1
        let formats = HTTPDate.formatted.load(ordering: .relaxed) - before
        // One thread uses one stripe; other tests running meanwhile may each add one per second per stripe.
        #expect(formats >= 0 && formats <= seconds * 16, "\(formats) formats for 5000 responses in \(seconds) s")
    }
}
