import HTTPKit
import Testing
import SystemKit
import ServiceKit

/// What a parse produced, in a comparable form.
enum Outcome: Equatable, CustomStringConvertible {
    case request(String, String, [String], String)
    case error(ParseError)

    var description: String {
        switch self {
        case let .request(method, target, headers, body):
            return "\(method) \(target) \(headers) body=\(body.debugDescription)"
        case let .error(error): return "error(\(error))"
        }
    }
}

/// Feeds the chunks in order and collects every request and error; `Expect` interim events are left out because
/// whether they appear depends, correctly, on whether the body had already arrived.
func parse(_ chunks: [[UInt8]], limits: ParserLimits = ParserLimits()) -> [Outcome] {
    var parser = RequestParser(limits: limits)
    var outcomes: [Outcome] = []
    for chunk in chunks {
        parser.append(chunk)
        loop: while true {
            switch parser.next() {
            case .needMore: break loop
            case .expectContinue: continue
            case .request(let r):
                outcomes.append(
                    .request(r.method.rawValue, r.target, r.headers.map { "\($0.name)=\($0.value)" }, r.bodyText))
            case .error(let e):
                outcomes.append(.error(e))
                return outcomes
            }
        }
    }
    return outcomes
}

/// The same input fed whole, one byte at a time, and split in two at every position.
func feedings(_ input: [UInt8]) -> [[[UInt8]]] {
    var all: [[[UInt8]]] = [[input], input.map { [$0] }]
    for cut in 1..<max(1, input.count) {
        all.append([Array(input[..<cut]), Array(input[cut...])])
    }
    return all
}

struct ParserCase: CustomStringConvertible, Sendable {
    let name: String
    let input: String
    let expected: [Outcome]
    var limits = ParserLimits()
    var description: String { name }
}

extension Outcome: @unchecked Sendable {}

let host = "Host: a\r\n"

let parserCases: [ParserCase] = [
    ParserCase(
        name: "simple GET", input: "GET /a?b=1 HTTP/1.1\r\n\(host)\r\n",
        expected: [.request("GET", "/a?b=1", ["Host=a"], "")]),
    ParserCase(
        name: "pipelined", input: "GET /1 HTTP/1.1\r\n\(host)\r\nGET /2 HTTP/1.1\r\n\(host)\r\n",
        expected: [.request("GET", "/1", ["Host=a"], ""), .request("GET", "/2", ["Host=a"], "")]),
    ParserCase(
        name: "content-length body",
        input: "POST /p HTTP/1.1\r\n\(host)Content-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\n\(host)\r\n",
        expected: [
            .request("POST", "/p", ["Host=a", "Content-Length=5"], "hello"), .request("GET", "/", ["Host=a"], ""),
        ]),
    ParserCase(
        name: "chunked with extension and trailer",
        input:
            "POST /c HTTP/1.1\r\n\(host)Transfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n "
            + "world\r\n0\r\nX-Trailer: t\r\n\r\n",
        expected: [.request("POST", "/c", ["Host=a", "Transfer-Encoding=chunked"], "hello world")]),
    ParserCase(
        name: "chunked without trailer",
        input: "POST /c HTTP/1.1\r\n\(host)Transfer-Encoding: chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n",
        expected: [.request("POST", "/c", ["Host=a", "Transfer-Encoding=chunked"], "0123456789")]),
    ParserCase(
        name: "header whitespace trimmed, order kept", input: "GET / HTTP/1.1\r\n\(host)X-B:  2 \r\nx-a:\t1\r\n\r\n",
        expected: [.request("GET", "/", ["Host=a", "X-B=2", "x-a=1"], "")]),
    ParserCase(
        name: "leading empty line ignored", input: "\r\nGET / HTTP/1.1\r\n\(host)\r\n",
        expected: [.request("GET", "/", ["Host=a"], "")]),
    ParserCase(
        name: "absolute-form target", input: "GET http://a/x?y HTTP/1.1\r\n\(host)\r\n",
        expected: [.request("GET", "http://a/x?y", ["Host=a"], "")]),
    ParserCase(
        name: "HTTP/1.0 without Host", input: "GET / HTTP/1.0\r\n\r\n", expected: [.request("GET", "/", [], "")]),
    ParserCase(
        name: "repeated identical Content-Length", input: "POST / HTTP/1.1\r\n\(host)Content-Length: 2, 2\r\n\r\nok",
        expected: [.request("POST", "/", ["Host=a", "Content-Length=2, 2"], "ok")]),
    // Smuggling and framing (RFC 9112 §6.3)
    ParserCase(
        name: "CL and TE together",
        input: "POST / HTTP/1.1\r\n\(host)Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        expected: [.error(.malformed("both Content-Length and Transfer-Encoding"))]),
    ParserCase(
        name: "TE and CL together",
        input: "POST / HTTP/1.1\r\n\(host)Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
        expected: [.error(.malformed("both Content-Length and Transfer-Encoding"))]),
    ParserCase(
        name: "conflicting Content-Length",
        input: "POST / HTTP/1.1\r\n\(host)Content-Length: 5\r\nContent-Length: 6\r\n\r\n",
        expected: [.error(.malformed("conflicting Content-Length values"))]),
    ParserCase(
        name: "negative Content-Length", input: "POST / HTTP/1.1\r\n\(host)Content-Length: -1\r\n\r\n",
        expected: [.error(.malformed("invalid Content-Length"))]),
    ParserCase(
        name: "hex Content-Length", input: "POST / HTTP/1.1\r\n\(host)Content-Length: 0x5\r\n\r\n",
        expected: [.error(.malformed("invalid Content-Length"))]),
    ParserCase(
        name: "chunked not last", input: "POST / HTTP/1.1\r\n\(host)Transfer-Encoding: chunked, gzip\r\n\r\n",
        expected: [.error(.malformed("chunked is not the final transfer coding"))]),
    ParserCase(
        name: "unknown coding", input: "POST / HTTP/1.1\r\n\(host)Transfer-Encoding: gzip, chunked\r\n\r\n",
        expected: [.error(.unsupportedTransferCoding("gzip"))]),
    ParserCase(
        name: "TE in HTTP/1.0", input: "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
        expected: [.error(.malformed("Transfer-Encoding in HTTP/1.0"))]),
    ParserCase(
        name: "bad chunk size", input: "POST / HTTP/1.1\r\n\(host)Transfer-Encoding: chunked\r\n\r\nzz\r\n",
        expected: [.error(.malformed("invalid chunk size"))]),
    ParserCase(
        name: "chunk data without CRLF",
        input: "POST / HTTP/1.1\r\n\(host)Transfer-Encoding: chunked\r\n\r\n1\r\nab\r\n",
        expected: [.error(.malformed("chunk data not followed by CRLF"))]),
    // Malformed heads
    ParserCase(
        name: "missing Host in 1.1", input: "GET / HTTP/1.1\r\n\r\n",
        expected: [.error(.malformed("missing Host header field"))]),
    ParserCase(
        name: "two Hosts", input: "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        expected: [.error(.malformed("more than one Host header field"))]),
    ParserCase(
        name: "obs-fold", input: "GET / HTTP/1.1\r\n\(host)X: a\r\n b\r\n\r\n",
        expected: [.error(.malformed("obsolete line folding"))]),
    ParserCase(
        name: "space before colon", input: "GET / HTTP/1.1\r\n\(host)X : a\r\n\r\n",
        expected: [.error(.malformed("invalid header field name"))]),
    ParserCase(
        name: "empty field name", input: "GET / HTTP/1.1\r\n\(host): a\r\n\r\n",
        expected: [.error(.malformed("invalid header field name"))]),
    ParserCase(
        name: "non-token byte in a name", input: "GET / HTTP/1.1\r\n\(host)X(y): a\r\n\r\n",
        expected: [.error(.malformed("invalid header field name"))]),
    ParserCase(
        name: "field without colon", input: "GET / HTTP/1.1\r\n\(host)X-Token\r\n\r\n",
        expected: [.error(.malformed("header field without ':'"))]),
    ParserCase(
        name: "field without colon, space inside", input: "GET / HTTP/1.1\r\n\(host)X Token\r\n\r\n",
        expected: [.error(.malformed("header field without ':'"))]),
    ParserCase(
        name: "bare LF", input: "GET / HTTP/1.1\n\(host)\r\n",
        expected: [.error(.malformed("line not terminated by CRLF"))]),
    ParserCase(name: "bare CR", input: "GET / HTTP/1.1\r\(host)\r\n", expected: [.error(.malformed("bare CR"))]),
    ParserCase(
        name: "control character in value", input: "GET / HTTP/1.1\r\n\(host)X: a\u{1}b\r\n\r\n",
        expected: [.error(.malformed("control character in header field value"))]),
    ParserCase(
        name: "bad method", input: "G(T / HTTP/1.1\r\n\(host)\r\n", expected: [.error(.malformed("invalid method"))]),
    ParserCase(
        name: "two spaces", input: "GET  / HTTP/1.1\r\n\(host)\r\n",
        expected: [.error(.malformed("request line is not 'method target version'"))]),
    ParserCase(
        name: "bad version", input: "GET / HTTX/1.1\r\n\(host)\r\n",
        expected: [.error(.malformed("invalid HTTP version"))]),
    ParserCase(name: "HTTP/2.0", input: "GET / HTTP/2.0\r\n\(host)\r\n", expected: [.error(.versionNotSupported)]),
    ParserCase(
        name: "authority-form", input: "CONNECT a:443 HTTP/1.1\r\n\(host)\r\n",
        expected: [.error(.malformed("unsupported request target form"))]),
    // Limits
    ParserCase(
        name: "target too long", input: "GET /\(String(repeating: "a", count: 100)) HTTP/1.1\r\n\(host)\r\n",
        expected: [.error(.uriTooLong)], limits: ParserLimits(maxRequestLineBytes: 64, maxHeaderBytes: 1024)),
    ParserCase(
        name: "bare CR past the request-line limit",
        input: "GET /\(String(repeating: "a", count: 80))\rb HTTP/1.1\r\n\(host)\r\n",
        expected: [.error(.uriTooLong)], limits: ParserLimits(maxRequestLineBytes: 64, maxHeaderBytes: 1024)),
    ParserCase(
        name: "bare CR before the request-line limit",
        input: "GET /a\rb\(String(repeating: "a", count: 80)) HTTP/1.1\r\n\(host)\r\n",
        expected: [.error(.malformed("bare CR"))], limits: ParserLimits(maxRequestLineBytes: 64, maxHeaderBytes: 1024)),
    ParserCase(
        name: "bare CR in a field past the head limit",
        input: "GET / HTTP/1.1\r\n\(host)X: \(String(repeating: "b", count: 300))\rc\r\n\r\n",
        expected: [.error(.headersTooLarge)], limits: ParserLimits(maxRequestLineBytes: 64, maxHeaderBytes: 200)),
    ParserCase(
        name: "head too large", input: "GET / HTTP/1.1\r\n\(host)X: \(String(repeating: "b", count: 300))\r\n\r\n",
        expected: [.error(.headersTooLarge)], limits: ParserLimits(maxRequestLineBytes: 64, maxHeaderBytes: 200)),
    ParserCase(
        name: "too many fields", input: "GET / HTTP/1.1\r\n\(host)A: 1\r\nB: 2\r\nC: 3\r\n\r\n",
        expected: [.error(.headersTooLarge)], limits: ParserLimits(maxHeaderCount: 3)),
    ParserCase(
        name: "Content-Length over limit", input: "POST / HTTP/1.1\r\n\(host)Content-Length: 11\r\n\r\n",
        expected: [.error(.bodyTooLarge)], limits: ParserLimits(maxBodyBytes: 10)),
    ParserCase(
        name: "chunked over limit",
        input: "POST / HTTP/1.1\r\n\(host)Transfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n6\r\nabcdef\r\n0\r\n\r\n",
        expected: [.error(.bodyTooLarge)], limits: ParserLimits(maxBodyBytes: 10)),
]

@Suite struct RequestParserTests {
    @Test(arguments: parserCases)
    func sameResultHoweverFed(_ testCase: ParserCase) {
        let input = Array(testCase.input.utf8)
        for chunks in feedings(input) {
            let outcomes = parse(chunks, limits: testCase.limits)
            #expect(outcomes == testCase.expected, "\(testCase.name) fed as \(chunks.count) chunk(s)")
            if outcomes != testCase.expected { return }
        }
    }

    /// Found by the fuzzer (Fuzz/Corpus/request/finding-trailer-host): trailers were merged into the headers, so a
    /// body could add a second Host or a Content-Length after the head had been checked.
    @Test func trailersStayApartFromTheHeaders() {
        var parser = RequestParser()
        parser.append(
            Array(
                ("POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n"
                    + "Host: b\r\nContent-Length: 99\r\nX-Checksum: 1\r\n\r\n").utf8))
        guard case .request(let request) = parser.next() else {
            Issue.record("no request")
            return
        }
        #expect(request.headers.values("Host") == ["a"])
        #expect(!request.headers.contains("Content-Length"))
        #expect(request.trailers == ["Host": "b", "Content-Length": "99", "X-Checksum": "1"])
        #expect(request.bodyText == "abc")
    }

    @Test func expectContinueBeforeBody() {
        var parser = RequestParser()
        parser.append(Array("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n".utf8))
        #expect(parser.next() == .expectContinue(.http1_1))
        #expect(parser.next() == .needMore)
        parser.append(Array("ok".utf8))
        guard case .request(let request) = parser.next() else {
            Issue.record("no request")
            return
        }
        #expect(request.bodyText == "ok")
    }

    @Test func keepAliveRules() {
        func keepAlive(_ head: String) -> Bool? {
            var parser = RequestParser()
            parser.append(Array(head.utf8))
            if case .request(let request) = parser.next() { return request.keepAlive }
            return nil
        }
        #expect(keepAlive("GET / HTTP/1.1\r\nHost: a\r\n\r\n") == true)
        #expect(keepAlive("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n") == false)
        #expect(keepAlive("GET / HTTP/1.0\r\n\r\n") == false)
        #expect(keepAlive("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n") == true)
        #expect(keepAlive("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, close\r\n\r\n") == false)
    }

    @Test func pathAndQueryOfAbsoluteForm() {
        let request = Request(method: .get, target: "http://example.com:8080/a/b?x=1&y=%20")
        #expect(request.path == "/a/b")
        #expect(request.queryValue("y") == " ")
        #expect(Request(method: .get, target: "http://h").path == "/")
    }

    /// Found by the fuzzer (Fuzz/Corpus/uri/finding-combining-mark-query): the query began one character past the
    /// "?", and a combining mark right after it forms one character with it, so the mark was lost. The parser takes
    /// only ASCII targets, but code builds requests from any string.
    @Test func theQueryStartsRightAfterTheQuestionMarkByte() {
        #expect(URI.split(target: "/a?\u{5A4}b=1") == ("/a", "\u{5A4}b=1"))
        #expect(URI.split(target: "http://h?\u{301}x") == ("/", "\u{301}x"))
        #expect(URI.split(target: "/p?q") == ("/p", "q"))
    }

    @Test func failedParserStaysFailed() {
        var parser = RequestParser()
        parser.append(Array("BAD\r\n\r\n".utf8))
        guard case .error = parser.next() else {
            Issue.record("expected an error")
            return
        }
        parser.append(Array("GET / HTTP/1.1\r\nHost: a\r\n\r\n".utf8))
        guard case .error = parser.next() else {
            Issue.record("expected the error again")
            return
        }
    }

    @Test func eofInTheMiddleOfARequestIsReported() {
        var parser = RequestParser()
        parser.append(Array("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nab".utf8))
        #expect(parser.next() == .needMore)
        #expect(parser.finishAtEOF() != nil)
        var idle = RequestParser()
        #expect(idle.finishAtEOF() == nil)
    }
}
