import Foundation
@testable import HTTPKit
import Testing
import TestSupport
@testable import SystemKit
@testable import ServiceKit

/// Replies that call upstreams, answered by the event loop's own client: `/call?url=U&timeout=S` calls U and
/// describes the result, `/both?a=U&b=V` calls both at once, `/pause` finishes on a worker.
private func proxyRouter() -> Router {
    var router = Router()
    router.get(
        "/call",
        reply: { request in
            let url = try HTTPClient.URL(request.queryValue("url") ?? "")
            let timeout = Double(request.queryValue("timeout") ?? "2") ?? 2
            return .call(HTTPClient.Call(.get, url, deadline: .after(seconds: timeout))) {
                .response(.text(describe($0)))
            }
        })
    router.get(
        "/both",
        reply: { request in
            let calls = try ["a", "b"].map {
                HTTPClient.Call(.get, try HTTPClient.URL(request.queryValue($0) ?? ""), deadline: .after(seconds: 2))
            }
            return .calls(calls) { results in .response(.text(results.map(describe).joined(separator: " | "))) }
        })
    router.get(
        "/pause",
        reply: { _ in
            .blocking {
                usleep(3_000_000)
                return .response(.text("paused"))
            }
        })
    router.get(
        "/fail",
        reply: { request in
            let url = try HTTPClient.URL(request.queryValue("url") ?? "")
            return .call(HTTPClient.Call(.get, url, deadline: .after(seconds: 2))) { _ in
                throw HTTPError(.conflict, "thrown after the call")
            }
        })
    return router
}

private func describe(_ result: Result<ClientResponse, HTTPClientError>) -> String {
    switch result {
    case .success(let response): return "\(response.status.code) \(response.bodyText)"
    case .failure(let error): return "error \(error.kind)"
    }
}

@Suite(.serialized) struct LoopClientTests {
    private func get(_ proxy: TestServer, _ target: String, timeout: Double = 5) throws -> ClientResponse {
        try HTTPClient().get(proxy.baseURL + target, timeout: timeout)
    }

    @Test func callsAnUpstreamAndReusesItsConnection() throws {
        let upstream = try TestServer(router: echoRouter())
        let proxy = try TestServer(configure: { $0.eventLoops = 1 }, router: proxyRouter())
        defer { proxy.stop(); upstream.stop() }
        for word in ["one", "two", "three", "four"] {
            #expect(try get(proxy, "/call?url=\(upstream.baseURL)/echo/\(word)").bodyText == "200 \(word)")
        }
        #expect(upstream.server.openConnections == 1)
        #expect(try get(proxy, "/call?url=\(upstream.baseURL)/nope").bodyText.hasPrefix("404 "))
    }

    /// A loop keeps at most `maxIdlePerHost` idle connections to one upstream and closes the others.
    @Test(arguments: [(1, 1), (128, 2)])
    func idleConnectionsPerHostAreCapped(_ limit: Int, _ kept: Int) throws {
        let upstream = try TestServer(router: echoRouter())
        var configuration = ClientConfiguration()
        configuration.maxIdlePerHost = limit
        let proxy = try TestServer(
            configure: { $0.eventLoops = 1 }, client: HTTPClient(configuration: configuration), router: proxyRouter())
        defer { proxy.stop(); upstream.stop() }
        // Both calls are in flight at once, so each has its own connection.
        #expect(
            try get(proxy, "/both?a=\(upstream.baseURL)/echo/a&b=\(upstream.baseURL)/blocking/b").bodyText
                == "200 a | 200 b")
        #expect(proxy.server.outboundConnections == kept)
    }

    @Test func aBatchAnswersInOrderAndWaitsForTheSlowestOnly() throws {
        let upstream = try TestServer(router: echoRouter())
        let silent = try CannedPeer(reply: nil)
        let proxy = try TestServer(router: proxyRouter())
        defer { proxy.stop(); upstream.stop(); silent.stop() }
        #expect(
            try get(proxy, "/both?a=\(upstream.baseURL)/echo/a&b=\(upstream.baseURL)/blocking/b").bodyText
                == "200 a | 200 b")
        let start = Deadline.now
        #expect(
            try get(proxy, "/both?a=\(upstream.baseURL)/echo/x&b=http://127.0.0.1:\(silent.port)/").bodyText
                == "200 x | error timeout")
        let elapsed = secondsSince(start)
        #expect(elapsed >= 2 && elapsed < 4, "took \(elapsed) s")
    }

    @Test func deadlinesAreKeptToTheMillisecondsNotTheSweep() throws {
        let silent = try CannedPeer(reply: nil)
        let proxy = try TestServer(router: proxyRouter())
        defer { proxy.stop(); silent.stop() }
        let start = Deadline.now
        #expect(try get(proxy, "/call?url=http://127.0.0.1:\(silent.port)/&timeout=0.25").bodyText == "error timeout")
        let elapsed = secondsSince(start)
        #expect(elapsed >= 0.25 && elapsed < 1.5, "a 0.25 s deadline took \(elapsed) s")
    }

    /// The loop sleeps until the earliest call deadline, not until its next 100 ms sweep.
    @Test func theLoopSleepsUntilTheEarliestCallDeadline() throws {
        let silent = try CannedPeer(reply: nil)
        defer { silent.stop() }
        let epoll = try Epoll()
        let client = LoopClient(epoll: epoll, configuration: ClientConfiguration()) { _ in }
        #expect(client.waitMilliseconds(limit: 100, now: monotonicNanos()) == 100)
        let deadline = Deadline.after(seconds: 1)
        client.start([HTTPClient.Call(.get, try HTTPClient.URL("http://127.0.0.1:\(silent.port)/"), deadline: deadline)]
        ) { _ in }
        #expect(client.waitMilliseconds(limit: 100, now: deadline.nanos - 30_000_000) == 30)
        #expect(client.waitMilliseconds(limit: 100, now: deadline.nanos - 500_000_000) == 100)
        #expect(client.waitMilliseconds(limit: 100, now: deadline.nanos) == 0)
        client.closeAll()
        epoll.close()
    }

    @Test func refusedUnknownAndMalformedUpstreamsAreErrorsNotHangs() throws {
        let closedPort = freePort()
        let truncated = try CannedPeer("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort")
        let garbage = try CannedPeer("HTTP/1.1 OK\r\n\r\n")
        let closeDelimited = try CannedPeer("HTTP/1.1 200 OK\r\n\r\nuntil the end")
        // getaddrinfo for numeric hosts only: an unknown name is a name error at once, with no DNS server to wait for.
        var configuration = ClientConfiguration()
        configuration.resolver = Resolver { host, port in try Resolver.lookup(host: host, port: port, numericOnly: true)
        }
        let proxy = try TestServer(client: HTTPClient(configuration: configuration), router: proxyRouter())
        defer { proxy.stop(); truncated.stop(); garbage.stop(); closeDelimited.stop() }
        #expect(try get(proxy, "/call?url=http://127.0.0.1:\(closedPort)/").bodyText == "error refused")
        #expect(try get(proxy, "/call?url=http://127.0.0.1:\(truncated.port)/").bodyText == "error protocol_error")
        #expect(try get(proxy, "/call?url=http://127.0.0.1:\(garbage.port)/").bodyText == "error protocol_error")
        #expect(try get(proxy, "/call?url=http://127.0.0.1:\(closeDelimited.port)/").bodyText == "200 until the end")
        #expect(
            try get(proxy, "/call?url=http://no-such-host.invalid:9080/&timeout=3").bodyText == "error name_not_found")
    }

    @Test func namesAreLookedUpOffTheLoop() throws {
        let upstream = try TestServer(router: echoRouter())
        // A resolver that takes 3 s to answer for one name; meanwhile the proxy's only loop must go on serving.
        var configuration = ClientConfiguration()
        configuration.resolver = Resolver { host, port in
            if host == "slow.test" { usleep(3_000_000) }
            return try Resolver.lookup(host: "127.0.0.1", port: port, numericOnly: true)
        }
        let proxy = try TestServer(
            configure: { $0.eventLoops = 1 }, client: HTTPClient(configuration: configuration), router: proxyRouter())
        defer { proxy.stop(); upstream.stop() }
        let named = BackgroundGet(proxy.baseURL + "/call?url=http://slow.test:\(upstream.port)/echo/named&timeout=6")
        usleep(200_000)
        let start = Deadline.now
        #expect(try get(proxy, "/call?url=\(upstream.baseURL)/echo/meanwhile").bodyText == "200 meanwhile")
        #expect(secondsSince(start) < 1.5, "the loop waited for the lookup")
        #expect(named.body.isEmpty, "the slow lookup was over before the other call was answered")
        #expect(eventually { named.body == "200 named" })
    }

    @Test func aPooledConnectionTheUpstreamClosedIsRetriedOnce() throws {
        let peer = try ClosingPeer(closing: 1)
        let proxy = try TestServer(configure: { $0.eventLoops = 1 }, router: proxyRouter())
        defer { proxy.stop(); peer.stop() }
        #expect(try get(proxy, "/call?url=http://127.0.0.1:\(peer.port)/echo/a").bodyText == "200 a")
        #expect(try get(proxy, "/call?url=http://127.0.0.1:\(peer.port)/echo/b").bodyText == "200 b")
        #expect(
            peer.connections == 2 && peer.requests == 3, "\(peer.connections) connections, \(peer.requests) requests")
    }

    @Test func anUpstreamThatClosesAfterEachAnswerStillWorks() throws {
        let peer = try CannedPeer("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        let proxy = try TestServer(configure: { $0.eventLoops = 1 }, router: proxyRouter())
        defer { proxy.stop(); peer.stop() }
        for _ in 0..<5 { #expect(try get(proxy, "/call?url=http://127.0.0.1:\(peer.port)/").bodyText == "200 ok") }
    }

    @Test func aBlockingStepRunsOnAWorkerWhileTheLoopServesOthers() throws {
        let upstream = try TestServer(router: echoRouter())
        let proxy = try TestServer(configure: { $0.eventLoops = 1 }, router: proxyRouter())
        defer { proxy.stop(); upstream.stop() }
        let paused = BackgroundGet(proxy.baseURL + "/pause")
        usleep(100_000)
        let start = Deadline.now
        #expect(try get(proxy, "/call?url=\(upstream.baseURL)/echo/meanwhile").bodyText == "200 meanwhile")
        #expect(secondsSince(start) < 2, "the loop waited for the worker's 3 s step")
        #expect(eventually { paused.body == "paused" })
    }

    @Test func middlewareSeesTheResponseMadeAfterTheCalls() throws {
        let upstream = try TestServer(router: echoRouter())
        var router = proxyRouter()
        router.use { request, next in
            var response = try next(request)
            response.headers.add("X-Seen", "\(response.status.code) \(response.bodyText)")
            return response
        }
        let request = Request(method: .get, target: "/call?url=\(upstream.baseURL)/echo/wrapped")
        #expect(router.route(request).execution == .blocking)
        let proxy = try TestServer(router: router)
        defer { proxy.stop(); upstream.stop() }
        let response = try get(proxy, "/call?url=\(upstream.baseURL)/echo/wrapped")
        #expect(response.bodyText == "200 wrapped")
        #expect(response.headers["X-Seen"] == "200 200 wrapped")
    }

    @Test func anErrorThrownAfterTheCallBecomesItsResponse() throws {
        let upstream = try TestServer(router: echoRouter())
        let proxy = try TestServer(router: proxyRouter())
        defer { proxy.stop(); upstream.stop() }
        let response = try get(proxy, "/fail?url=\(upstream.baseURL)/echo/x")
        #expect(response.status.code == 409)
        #expect(response.bodyText == #"{"error":"thrown after the call"}"#)
    }

    @Test func clientsLeavingMidCallLeaveNoDescriptorsBehind() throws {
        // A listener that never accepts: the kernel completes connections and keeps what they send, and this
        // process holds no descriptor for them.
        let silent = try Listener(host: "127.0.0.1", port: 0, backlog: 64)
        let upstream = try TestServer(router: echoRouter())
        let proxy = try TestServer(router: proxyRouter())
        defer { proxy.stop(); upstream.stop(); silent.socket.close() }
        _ = try get(proxy, "/call?url=\(upstream.baseURL)/echo/warm")
        for _ in 0..<20 {
            let connection = try RawConnection(port: proxy.port)
            try connection.send("GET /call?url=http://127.0.0.1:\(silent.port)/&timeout=3 HTTP/1.1\r\nHost: t\r\n\r\n")
            connection.close()
        }
        #expect(try get(proxy, "/call?url=\(upstream.baseURL)/echo/after").bodyText == "200 after")
        // Counted before the 3-s timeouts end them, with room for a loaded machine.
        #expect(eventually(timeout: 2.5) { proxy.server.outboundConnections >= 20 })
        // The calls to the silent peer time out and their connections close; only pooled ones to the upstream
        // (one per loop at most) stay.
        #expect(eventually(timeout: 8) { proxy.server.outboundConnections <= 2 && proxy.server.openConnections == 0 })
    }

    @Test func shutdownWaitsForARequestWaitingOnItsCall() throws {
        let upstream = try TestServer(router: echoRouter())
        let proxy = try TestServer(router: proxyRouter())
        defer { upstream.stop() }
        let answer = BackgroundGet(proxy.baseURL + "/call?url=\(upstream.baseURL)/sleep/300")
        usleep(100_000)
        #expect(proxy.server.shutdown(timeout: 3))
        #expect(eventually { answer.body == "200 slept" })
    }
}
