import HTTPKit
import Testing

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
            String(decoding: bytes, as: UTF8.self)
                == "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 5\r\n\r\n")
    }
}
