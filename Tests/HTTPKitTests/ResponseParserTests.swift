import HTTPKit
import Testing
import SystemKit
import ServiceKit

@Suite struct ResponseParserTests {
    func parseAll(_ text: String, head: Bool = false, eof: Bool = true) -> [Result<ClientResponse, ParseError>] {
        var results: [Result<ClientResponse, ParseError>] = []
        for chunks in feedings(Array(text.utf8)) {
            var parser = ResponseParser()
            parser.requestWasHead = head
            var outcome: Result<ClientResponse, ParseError>?
            for chunk in chunks {
                parser.append(chunk)
                switch parser.next() {
                case .response(let r): outcome = .success(r)
                case .error(let e): outcome = .failure(e)
                case .needMore: break
                }
                if outcome != nil { break }
            }
            if outcome == nil, eof {
                switch parser.finishAtEOF() {
                case .response(let r): outcome = .success(r)
                case .error(let e): outcome = .failure(e)
                case .needMore: break
                }
            }
            if let outcome { results.append(outcome) }
        }
        return results
    }

    func bodies(_ results: [Result<ClientResponse, ParseError>]) -> Set<String> {
        Set(results.map { (try? $0.get().bodyText) ?? "error" })
    }

    /// Header strings are made when asked for: the same fields, order and trimming whichever way the bytes came,
    /// and framing and keep-alive read from mixed-case names.
    @Test func headersAreKeptInOrderAndTrimmed() throws {
        let text =
            "HTTP/1.1 200 OK\r\nX-One: a \r\ncontent-LENGTH: 2\r\nX-Two:\tb, c\r\nX-One: d\r\nCONNECTION: "
            + "close\r\n\r\nhi"
        let results = parseAll(text)
        #expect(bodies(results) == ["hi"])
        for result in results {
            let response = try result.get()
            #expect(
                response.headers.fields.map { "\($0.name)=\($0.value)" } == [
                    "X-One=a", "content-LENGTH=2", "X-Two=b, c", "X-One=d", "CONNECTION=close",
                ])
            #expect(response.headers.values("x-one") == ["a", "d"])
            #expect(!response.keepAlive)
        }
        var changed = try results[0].get()
        changed.headers = ["Connection": "keep-alive"]
        #expect(changed.headers.count == 1)
        #expect(changed.keepAlive)
    }

    @Test func contentLength() throws {
        let results = parseAll("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc")
        #expect(bodies(results) == ["abc"])
        #expect(try results[0].get().keepAlive)
    }

    @Test func chunked() {
        #expect(
            bodies(parseAll("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"))
                == ["abcde"])
    }

    @Test func closeDelimited() throws {
        let results = parseAll("HTTP/1.1 200 OK\r\n\r\nuntil close")
        #expect(bodies(results) == ["until close"])
        #expect(try results[0].get().keepAlive == false)
    }

    @Test func truncatedIsAnError() {
        #expect(bodies(parseAll("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")) == ["error"])
        #expect(bodies(parseAll("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab")) == ["error"])
    }

    @Test func interimResponsesAreSkipped() {
        #expect(
            bodies(parseAll("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok")) == [
                "ok"
            ])
    }

    @Test func noBodyFor204AndHead() {
        #expect(bodies(parseAll("HTTP/1.1 204 No Content\r\n\r\n", eof: false)) == [""])
        #expect(bodies(parseAll("HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n", head: true, eof: false)) == [""])
    }

    /// A lone Content-Length takes the short way; every other framing the general one, with the same answers.
    @Test func contentLengthFraming() {
        #expect(bodies(parseAll("HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nabcdef")) == ["abc"])
        #expect(bodies(parseAll("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", eof: false)) == [""])
        #expect(bodies(parseAll("HTTP/1.1 200 OK\r\nContent-Length: +3\r\n\r\nabc")) == ["error"])
        #expect(bodies(parseAll("HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\nabc")) == ["abc"])
        #expect(bodies(parseAll("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd")) == ["error"])
        var parser = ResponseParser(maxBodyBytes: 10)
        parser.append(Array("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n".utf8))
        guard case .error(.bodyTooLarge) = parser.next() else {
            Issue.record("a body over the limit was accepted")
            return
        }
    }

    @Test func malformedStatusLine() {
        #expect(bodies(parseAll("HTTP/1.1 2x0 OK\r\n\r\n")) == ["error"])
        #expect(bodies(parseAll("garbage\r\n\r\n")) == ["error"])
    }
}
