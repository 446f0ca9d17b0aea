import Foundation
import HTTPKit
import Testing
import TestSupport
import SystemKit
import ServiceKit

func echoRouter() -> Router {
    var router = Router()
    router.get("/echo/:word", execution: .inline) { request in .text(try request.parameter("word")) }
    router.get("/blocking/:word") { request in .text(try request.parameter("word")) }
    router.get("/large", execution: .inline) { _ in
        Response(status: .ok, headers: [:], body: [UInt8](repeating: 0x61, count: 16 << 20))
    }
    router.get("/chunked/:word", execution: .inline) { request in
        var response = Response.text(String(repeating: try request.parameter("word"), count: 3))
        response.chunkSize = 4
        return response
    }
    router.post("/body") { request in .text("got \(request.body.count): \(request.bodyText)") }
    router.get("/sleep/:ms") { request in
        usleep(UInt32(Int(try request.parameter("ms")) ?? 0) * 1000)
        return .text("slept")
    }
    return router
}

@Suite(.serialized) struct ServerLiveTests {
    @Test func keepAliveReusesTheConnection() throws {
        let server = try TestServer(router: echoRouter())
        defer { server.stop() }
        let connection = try RawConnection(port: server.port)
        for word in ["one", "two", "three"] {
            try connection.send("GET /echo/\(word) HTTP/1.1\r\nHost: t\r\n\r\n")
            let responses = connection.readResponses(1)
            #expect(responses.first?.bodyText == word)
        }
        #expect(server.server.openConnections == 1)
    }

    @Test func http10ClosesUnlessKeepAliveAsked() throws {
        let server = try TestServer(router: echoRouter())
        defer { server.stop() }
        let plain = try RawConnection(port: server.port)
        try plain.send("GET /echo/a HTTP/1.0\r\n\r\n")
        let text = plain.readToEnd()
        #expect(text.hasPrefix("HTTP/1.0 200 OK\r\n"))
        #expect(text.contains("Connection: close\r\n"))
        #expect(text.hasSuffix("\r\n\r\na"))

        let keep = try RawConnection(port: server.port)
        try keep.send("GET /echo/b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        let first = keep.readResponses(1)
        #expect(first.first?.headers["Connection"] == "keep-alive")
        try keep.send("GET /echo/c HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        #expect(keep.readResponses(1).first?.bodyText == "c")
    }

    @Test func pipelinedRequestsAnsweredInOrder() throws {
        let server = try TestServer(router: echoRouter())
        defer { server.stop() }
        let connection = try RawConnection(port: server.port)
        try connection.send(
            "GET /sleep/50 HTTP/1.1\r\nHost: t\r\n\r\nGET /echo/2 HTTP/1.1\r\nHost: t\r\n\r\nPOST /body "
                + "HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabcGET /echo/4 HTTP/1.1\r\nHost: t\r\n\r\n"
        )
        let bodies = connection.readResponses(4).map(\.bodyText)
        #expect(bodies == ["slept", "2", "got 3: abc", "4"])
    }

    @Test func expectContinue() throws {
        let server = try TestServer(router: echoRouter())
        defer { server.stop() }
        let connection = try RawConnection(port: server.port)
        try connection.send("POST /body HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
        let interim = connection.readBytes(until: { $0.containsSubsequence(Array("\r\n\r\n".utf8)) }, timeout: 2)
        #expect(String(decoding: interim, as: UTF8.self) == "HTTP/1.1 100 Continue\r\n\r\n")
        try connection.send("data")
        #expect(connection.readResponses(1).first?.bodyText == "got 4: data")
    }

    @Test func chunkedRequestBody() throws {
        let server = try TestServer(router: echoRouter())
        defer { server.stop() }
        let connection = try RawConnection(port: server.port)
        try connection.send("POST /body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
        #expect(connection.readResponses(1).first?.bodyText == "got 3: abc")
    }

    @Test func chunkedResponsesForHTTP11AndLengthForHTTP10() throws {
        let server = try TestServer(router: echoRouter())
        defer { server.stop() }
        let connection = try RawConnection(port: server.port)
        try connection.send("GET /chunked/abc HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        #expect(
            droppingDate(connection.readToEnd())
                == "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nTransfer-Encoding: "
                + "chunked\r\nConnection: close\r\n\r\n4\r\nabca\r\n4\r\nbcab\r\n1\r\nc\r\n0\r\n\r\n"
        )
        #expect(try HTTPClient().get(server.baseURL + "/chunked/xy", timeout: 2).bodyText == "xyxyxy")
        let old = try RawConnection(port: server.port)
        try old.send("GET /chunked/abc HTTP/1.0\r\n\r\n")
        #expect(old.readToEnd().hasSuffix("Content-Length: 9\r\nConnection: close\r\n\r\nabcabcabc"))
    }

    @Test func headSendsGetHeadersWithoutBody() throws {
        let server = try TestServer(router: echoRouter())
        defer { server.stop() }
        let connection = try RawConnection(port: server.port)
        try connection.send("HEAD /echo/hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        let text = droppingDate(connection.readToEnd())
        #expect(
            text
                == "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 5\r\nConnection: "
                + "close\r\n\r\n"
        )
    }

    @Test func oversizedHeadersGetTheExactCannedReply() throws {
        let server = try TestServer(configure: { $0.limits.maxHeaderBytes = 1024 }, router: echoRouter())
        defer { server.stop() }
        let connection = try RawConnection(port: server.port)
        try connection.send("GET /echo/a HTTP/1.1\r\nHost: t\r\nX-Big: \(String(repeating: "x", count: 2000))\r\n\r\n")
        let body = #"{"error":"request header fields too large"}"#
        #expect(
            droppingDate(connection.readToEnd())
                == "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: "
                + "application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
        )
    }

    @Test func oversizedBodyIsRefusedUnread() throws {
        let server = try TestServer(configure: { $0.limits.maxBodyBytes = 100 }, router: echoRouter())
        defer { server.stop() }
        let connection = try RawConnection(port: server.port)
        try connection.send("POST /body HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n")
        let body = #"{"error":"request body too large"}"#
        #expect(
            droppingDate(connection.readToEnd())
                == "HTTP/1.1 413 Content Too Large\r\nContent-Type: "
                + "application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
        )
    }

    @Test(arguments: [
        ("GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        ("GET /\(String(repeating: "a", count: 9000)) HTTP/1.1\r\nHost: t\r\n\r\n", 414),
        ("GET / HTTP/3.0\r\nHost: t\r\n\r\n", 505),
        ("GET / HTTP/1.1\r\n\r\n", 400),
        ("POST /body HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: br, chunked\r\n\r\n", 501),
    ])
    func protocolErrorsCloseWithTheirStatus(_ input: String, _ status: Int) throws {
        let server = try TestServer(router: echoRouter())
        defer { server.stop() }
        let connection = try RawConnection(port: server.port)
        try connection.send(input)
        let text = connection.readToEnd()
        #expect(text.hasPrefix("HTTP/1.1 \(status) "))
        #expect(text.contains("Connection: close"))
    }

    /// What the server sends once `text` has arrived and nothing more; it must come within 2 s.
    func replyToStalledRequest(_ server: TestServer, after text: String) throws -> String {
        let connection = try RawConnection(port: server.port)
        try connection.send(text)
        let start = Deadline.now
        let reply = connection.readToEnd(timeout: 3)
        #expect(secondsSince(start) < 2)
        return reply
    }

    @Test func slowClientIsTimedOut() throws {
        let server = try TestServer(configure: { $0.headerTimeout = 0.3 }, router: echoRouter())
        defer { server.stop() }
        let text = try replyToStalledRequest(server, after: "GET /echo/a HTTP/1.1\r\n")
        #expect(text.hasPrefix("HTTP/1.1 408 Request Timeout\r\n"))
    }

    @Test func aClientThatStopsReadingIsCutOffAtTheWriteTimeout() throws {
        let server = try TestServer(configure: { $0.writeTimeout = 0.3 }, router: echoRouter())
        defer { server.stop() }
        let connection = try RawConnection(port: server.port)
        try connection.send("GET /large HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(eventually { server.server.openConnections == 1 })
        #expect(eventually(timeout: 3) { server.server.openConnections == 0 }, "the stalled connection was not closed")
        connection.close()
    }

    @Test func slowBodyIsTimedOut() throws {
        let server = try TestServer(
            configure: {
                $0.headerTimeout = 5; $0.bodyTimeout = 0.3
            }, router: echoRouter())
        defer { server.stop() }
        let text = try replyToStalledRequest(
            server, after: "POST /body HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nab")
        #expect(text.hasPrefix("HTTP/1.1 408 Request Timeout\r\n"))
        #expect(text.contains("request body not received in time"))
    }

    /// Sends `prefix` at once, then `text` one byte every 0.3 s until the server answers; returns the answer and the
    /// seconds from the first dripped byte to it. A deadline that restarted with each byte would never come.
    func drip(_ text: String, after prefix: String = "", to server: TestServer, giveUpAfter limit: Double = 6) throws
        -> (String, Double)
    {
        let connection = try RawConnection(port: server.port)
        defer { connection.close() }
        if !prefix.isEmpty { try connection.send(prefix) }
        let start = Deadline.now
        var answer: [UInt8] = []
        for byte in text.utf8 where secondsSince(start) < limit {
            guard (try? connection.send([byte])) != nil else { break }
            answer = connection.readBytes(until: { !$0.isEmpty }, timeout: 0.3)
            if !answer.isEmpty { break }
        }
        let elapsed = secondsSince(start)
        answer += connection.readBytes(until: { _ in false }, timeout: 2)
        return (String(decoding: answer, as: UTF8.self), elapsed)
    }

    @Test func dripFedHeadTimesOutAtTheDeadline() throws {
        let server = try TestServer(configure: { $0.headerTimeout = 1 }, router: echoRouter())
        defer { server.stop() }
        let head = "GET /echo/a HTTP/1.1\r\nHost: t\r\nX-Padding: " + String(repeating: "p", count: 40) + "\r\n\r\n"
        let (text, seconds) = try drip(head, to: server)
        #expect(text.hasPrefix("HTTP/1.1 408"), "got \(text.prefix(40))")
        #expect(text.contains("Connection: close"))
        #expect(seconds >= 0.9 && seconds < 3, "answered after \(seconds) s")
    }

    @Test func dripFedBodyTimesOutAtTheDeadline() throws {
        let server = try TestServer(configure: { $0.bodyTimeout = 1 }, router: echoRouter())
        defer { server.stop() }
        let head = "POST /body HTTP/1.1\r\nHost: t\r\nContent-Length: 40\r\n\r\n"
        let (text, seconds) = try drip(String(repeating: "b", count: 40), after: head, to: server)
        #expect(text.hasPrefix("HTTP/1.1 408"), "got \(text.prefix(40))")
        #expect(text.contains("request body not received in time"))
        #expect(seconds >= 0.9 && seconds < 3, "answered after \(seconds) s")
    }

    @Test func aSilentNewConnectionIsClosedAtTheFirstRequestTimeout() throws {
        let server = try TestServer(configure: { $0.firstRequestTimeout = 0.5 }, router: echoRouter())
        defer { server.stop() }
        let connection = try RawConnection(port: server.port)
        let start = Deadline.now
        #expect(connection.isClosedByPeer(timeout: 4))
        let seconds = secondsSince(start)
        #expect(seconds >= 0.4 && seconds < 3, "closed after \(seconds) s")
        // A connection that has started its request is not cut off by it.
        let slow = try RawConnection(port: server.port)
        try slow.send("GET /echo/b HTT")
        usleep(900_000)
        try slow.send("P/1.1\r\nHost: t\r\n\r\n")
        #expect(slow.readResponses(1).first?.bodyText == "b")
    }

    @Test func idleKeepAliveConnectionIsClosed() throws {
        let server = try TestServer(configure: { $0.idleTimeout = 0.3 }, router: echoRouter())
        defer { server.stop() }
        let connection = try RawConnection(port: server.port)
        try connection.send("GET /echo/a HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(connection.readResponses(1).count == 1)
        #expect(connection.isClosedByPeer(timeout: 2))
    }

    @Test func clientDroppingMidBodyLeavesNothingBehind() throws {
        let server = try TestServer(router: echoRouter())
        defer { server.stop() }
        let before = openSocketCount(port: server.port)
        // Many times: the server must see the end of the stream also when it arrives together with the data.
        for _ in 0..<100 {
            let connection = try RawConnection(port: server.port)
            try connection.send("POST /body HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nonly part")
            connection.close()
        }
        #expect(eventually { server.server.openConnections == 0 })
        #expect(eventually { openSocketCount(port: server.port) <= before })
        let client = HTTPClient()
        #expect(try client.get(server.baseURL + "/echo/alive", timeout: 2).bodyText == "alive")
    }

    @Test func openDescriptorCountIsStable() throws {
        let server = try TestServer(router: echoRouter())
        defer { server.stop() }
        var config = ClientConfiguration()
        config.keepAlive = false
        let client = HTTPClient(configuration: config)
        _ = try client.get(server.baseURL + "/echo/warm", timeout: 2)
        #expect(eventually { server.server.openConnections == 0 })
        // Counted in /proc/self/fd, but only the sockets on the server's port: other suites run meanwhile.
        let before = openSocketCount(port: server.port)
        #expect(before == 1)
        for i in 0..<300 {
            _ = try client.get(server.baseURL + "/echo/\(i)", timeout: 2)
        }
        #expect(eventually { server.server.openConnections == 0 })
        #expect(
            eventually { openSocketCount(port: server.port) == before },
            "sockets before \(before), after \(openSocketCount(port: server.port))")
    }

    @Test func connectionLimitAnswers503WhenNoConnectionIsIdle() throws {
        let server = try TestServer(configure: { $0.maxConnections = 2 }, router: echoRouter())
        defer { server.stop() }
        // Both have a request under way, so neither may be closed to make room.
        let a = try RawConnection(port: server.port)
        let b = try RawConnection(port: server.port)
        try a.send("GET /echo/a HTTP/1.1\r\n")
        try b.send("GET /echo/b HTTP/1.1\r\n")
        #expect(eventually { server.server.inFlightRequests == 2 })
        let c = try RawConnection(port: server.port)
        #expect(c.readToEnd().hasPrefix("HTTP/1.1 503 Service Unavailable"))
        try a.send("Host: t\r\n\r\n")
        #expect(a.readResponses(1).first?.bodyText == "a")
        a.close()
        b.close()
    }

    @Test func atTheLimitSilentConnectionsMakeRoomOldestFirst() throws {
        let limit = 16
        let server = try TestServer(
            configure: {
                $0.maxConnections = limit; $0.eventLoops = 2
            }, router: echoRouter())
        defer { server.stop() }
        var silent: [RawConnection] = []
        for _ in 0..<limit {
            silent.append(try RawConnection(port: server.port))
            usleep(5_000)
        }
        #expect(eventually { server.server.openConnections == limit })
        // Newcomers that stay open (keep-alive) after their answer, so that each one finds the server at its limit.
        var newcomers: [RawConnection] = []
        for i in 0..<4 {
            let start = Deadline.now
            let newcomer = try RawConnection(port: server.port)
            try newcomer.send("GET /echo/\(i) HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(newcomer.readResponses(1, timeout: 3).first?.bodyText == "\(i)")
            #expect(secondsSince(start) < 2)
            newcomers.append(newcomer)
        }
        // Each loop gives up its oldest idle connection: four of the silent ones went, all from the older half.
        let closed = silent.indices.filter { silent[$0].isClosedByPeer(timeout: 0.2) }
        #expect(closed.count == 4, "closed: \(closed)")
        #expect(closed.allSatisfy { $0 < limit / 2 }, "closed: \(closed)")
        #expect(server.server.openConnections == limit)
        for connection in silent + newcomers { connection.close() }
    }

    @Test func atTheLimitAnIdleKeepAliveConnectionMakesRoom() throws {
        let server = try TestServer(
            configure: {
                $0.maxConnections = 2; $0.eventLoops = 1
            }, router: echoRouter())
        defer { server.stop() }
        let idle = try RawConnection(port: server.port)
        try idle.send("GET /echo/a HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(idle.readResponses(1).count == 1)
        let busy = try RawConnection(port: server.port)
        try busy.send("GET /echo/b HTTP/1.1\r\n")
        #expect(eventually { server.server.inFlightRequests == 1 && server.server.openConnections == 2 })
        let newcomer = try RawConnection(port: server.port)
        try newcomer.send("GET /echo/c HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(newcomer.readResponses(1).first?.bodyText == "c")
        #expect(idle.isClosedByPeer(timeout: 2))
        try busy.send("Host: t\r\n\r\n")
        #expect(busy.readResponses(1).first?.bodyText == "b")
        for connection in [idle, busy, newcomer] { connection.close() }
    }

    @Test func gracefulShutdownFinishesInFlightRequests() throws {
        let server = try TestServer(router: echoRouter())
        let busy = try RawConnection(port: server.port)
        let idle = try RawConnection(port: server.port)
        try idle.send("GET /echo/x HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(idle.readResponses(1).count == 1)
        #expect(eventually { server.server.inFlightRequests == 0 })
        try busy.send("GET /sleep/400 HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(eventually { server.server.inFlightRequests == 1 })
        let started = Deadline.now
        let clean = server.server.shutdown(timeout: 5)
        #expect(clean)
        let text = busy.readToEnd(timeout: 2)
        #expect(text.hasPrefix("HTTP/1.1 200 OK"))
        #expect(text.contains("Connection: close"))
        #expect(text.hasSuffix("slept"))
        #expect(idle.isClosedByPeer(timeout: 1))
        #expect(secondsSince(started) < 3)
        #expect(throws: (any Error).self) { _ = try RawConnection(port: server.port) }
    }

    /// Worker-run handlers hand their connection back to the event loop while the client is already sending the
    /// next request; no request may be lost in that hand-over.
    @Test func keepAliveRequestsOnWorkerRoutesUnderConcurrency() throws {
        let server = try TestServer(router: echoRouter())
        defer { server.stop() }
        let client = HTTPClient()
        let failures = countFailuresConcurrently(threads: 16, iterations: 500) { thread, n in
            let word = "t\(thread)n\(n)"
            return (try? client.get(server.baseURL + "/blocking/\(word)", timeout: 2).bodyText) == word
        }
        #expect(failures == 0)
    }

    @Test func aRequestArrivingAsTheDrainStartsIsStillAnswered() throws {
        let server = try TestServer(router: echoRouter())
        let connection = try RawConnection(port: server.port)
        #expect(eventually { server.server.openConnections == 1 })
        try connection.send("GET /echo/late HTTP/1.1\r\nHost: t\r\n\r\n")
        server.server.shutdown(timeout: 2)
        let text = connection.readToEnd(timeout: 2)
        // Answered before or after the drain began (with Connection: close then); either way answered, then closed.
        #expect(text.hasPrefix("HTTP/1.1 200 OK") && text.hasSuffix("late"), "\(text)")
        #expect(connection.isClosedByPeer(timeout: 1))
    }

    /// From SIGTERM until the shutdown: each response closes its connection (a pooling proxy stops reusing it),
    /// and new connections are still served.
    @Test func afterSIGTERMEachResponseClosesItsConnection() throws {
        let server = try TestServer(router: echoRouter())
        defer { server.stop() }
        let pooled = try RawConnection(port: server.port)
        try pooled.send("GET /echo/before HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(pooled.readResponses(1).first?.bodyText == "before")
        server.server.closeConnectionsAfterResponses()
        try pooled.send("GET /echo/after HTTP/1.1\r\nHost: t\r\n\r\n")
        let text = pooled.readToEnd(timeout: 2)
        #expect(text.contains("\r\nConnection: close\r\n") && text.hasSuffix("after"), "\(text)")
        #expect(pooled.isClosedByPeer(timeout: 1))
        let newcomer = try RawConnection(port: server.port)
        try newcomer.send("GET /echo/new HTTP/1.1\r\nHost: t\r\n\r\n")
        let answer = newcomer.readToEnd(timeout: 2)
        #expect(answer.contains("\r\nConnection: close\r\n") && answer.hasSuffix("new"), "\(answer)")
    }

    /// A connection accepted just before the shutdown whose first request comes a little later is answered, not
    /// reset; one that stays silent is closed when the grace ends.
    @Test func aConnectionAcceptedBeforeTheShutdownGetsItsFirstRequestAnswered() throws {
        let server = try TestServer(configure: { $0.shutdownFirstRequestGrace = 2 }, router: echoRouter())
        let late = try RawConnection(port: server.port)
        let silent = try RawConnection(port: server.port)
        #expect(eventually { server.server.openConnections == 2 })
        let started = Deadline.now
        let stopper = Thread { server.server.shutdown(timeout: 10) }
        stopper.start()
        usleep(300_000)
        try late.send("GET /echo/late HTTP/1.1\r\nHost: t\r\n\r\n")
        let text = late.readToEnd(timeout: 3)
        #expect(
            text.hasPrefix("HTTP/1.1 200 OK") && text.contains("Connection: close") && text.hasSuffix("late"), "\(text)"
        )
        #expect(silent.isClosedByPeer(timeout: 5))
        let waited = secondsSince(started)
        #expect(waited >= 1.5 && waited < 8, "the silent connection was closed after \(waited) s")
    }

    @Test func dualStackListenerAcceptsIPv4AndIPv6() throws {
        let server = try TestServer(configure: { $0.host = "::" }, router: echoRouter())
        defer { server.stop() }
        let client = HTTPClient()
        #expect(try client.get("http://127.0.0.1:\(server.port)/echo/v4", timeout: 2).bodyText == "v4")
        #expect(try client.get("http://[::1]:\(server.port)/echo/v6", timeout: 2).bodyText == "v6")
    }
}
