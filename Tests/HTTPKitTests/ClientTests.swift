import Foundation
@testable import HTTPKit
import Testing
import TestSupport
@testable import SystemKit
@testable import ServiceKit

@Suite(.serialized) struct ClientTests {
    @Test func getAndPostAgainstTheServer() throws {
        let server = try TestServer(router: echoRouter())
        defer { server.stop() }
        let client = HTTPClient()
        let get = try client.get(server.baseURL + "/echo/hi", timeout: 2)
        #expect(get.status == .ok)
        #expect(get.bodyText == "hi")
        let post = try client.request(.post, server.baseURL + "/body", body: Array("xyz".utf8), timeout: 2)
        #expect(post.bodyText == "got 3: xyz")
        let missing = try client.get(server.baseURL + "/nope", timeout: 2)
        #expect(missing.status == .notFound)
    }

    @Test func keepAliveReusesOneConnection() throws {
        let server = try TestServer(router: echoRouter())
        defer { server.stop() }
        let client = HTTPClient()
        for i in 0..<10 { _ = try client.get(server.baseURL + "/echo/\(i)", timeout: 2) }
        #expect(server.server.openConnections == 1)
        var off = ClientConfiguration()
        off.keepAlive = false
        let plain = HTTPClient(configuration: off)
        for i in 0..<3 { _ = try plain.get(server.baseURL + "/echo/\(i)", timeout: 2) }
        #expect(eventually { server.server.openConnections == 1 })
    }

    /// The peer closes the pooled connection after reading the next request: the client sends it once more, on a
    /// new connection. (A peer that closes while idle is caught before use and never reaches this branch.)
    @Test func retriesOnceWhenAPooledConnectionWasClosed() throws {
        let peer = try ClosingPeer(closing: 1)
        defer { peer.stop() }
        let client = HTTPClient()
        #expect(try client.get("http://127.0.0.1:\(peer.port)/echo/a", timeout: 2).bodyText == "a")
        #expect(try client.get("http://127.0.0.1:\(peer.port)/echo/b", timeout: 2).bodyText == "b")
        #expect(
            peer.connections == 2 && peer.requests == 3, "\(peer.connections) connections, \(peer.requests) requests")
    }

    @Test func sharedClientUnderConcurrency() throws {
        let server = try TestServer(router: echoRouter())
        defer { server.stop() }
        let client = HTTPClient()
        let failures = countFailuresConcurrently(threads: 8, iterations: 100) { thread, n in
            let word = "t\(thread)n\(n)"
            return (try? client.get(server.baseURL + "/echo/\(word)", timeout: 5).bodyText) == word
        }
        #expect(failures == 0)
        #expect(server.server.openConnections <= 8)
    }

    @Test func aBatchWaitsForItsSlowestCallOnly() throws {
        let server = try TestServer(router: echoRouter())
        defer { server.stop() }
        let silent = try CannedPeer(reply: nil)
        defer { silent.stop() }
        let refused = try Listener(host: "127.0.0.1", port: 0)
        let refusedPort = refused.port
        refused.socket.close()
        let client = HTTPClient()
        let deadline = Deadline.after(seconds: 5)
        func url(_ text: String) throws -> HTTPClient.URL { try HTTPClient.URL(text) }
        let start = Deadline.now
        let results = client.perform([
            HTTPClient.Call(.get, try url(server.baseURL + "/sleep/2000"), deadline: deadline),
            HTTPClient.Call(.get, try url(server.baseURL + "/blocking/two"), deadline: deadline),
            HTTPClient.Call(.get, try url("http://127.0.0.1:\(silent.port)/"), deadline: .after(seconds: 2.2)),
            HTTPClient.Call(.get, try url("http://127.0.0.1:\(refusedPort)/"), deadline: deadline),
        ])
        let elapsed = secondsSince(start)
        #expect((try? results[0].get().bodyText) == "slept")
        #expect((try? results[1].get().bodyText) == "two")
        #expect(throws: HTTPClientError.timedOut("127.0.0.1:\(silent.port)")) { try results[2].get() }
        #expect(throws: HTTPClientError.connectionRefused("127.0.0.1:\(refusedPort)")) { try results[3].get() }
        // At once: 2.2 s (the silent peer's deadline); one after the other: 4.2 s.
        #expect(elapsed >= 2.15 && elapsed < 3.6, "took \(elapsed)s")
    }

    @Test func aBatchRetriesAPooledConnectionTheServerClosed() throws {
        let peer = try ClosingPeer(closing: 1)
        defer { peer.stop() }
        let client = HTTPClient()
        let base = "http://127.0.0.1:\(peer.port)"
        #expect(try client.get(base + "/echo/a", timeout: 2).bodyText == "a")
        let results = client.perform([
            HTTPClient.Call(.get, try HTTPClient.URL(base + "/echo/c"), deadline: .after(seconds: 2)),
            HTTPClient.Call(.get, try HTTPClient.URL(base + "/echo/d"), deadline: .after(seconds: 2)),
        ])
        #expect(results.map { (try? $0.get().bodyText) ?? "failed" } == ["c", "d"])
        // a; c on the pooled connection (read, not answered); d on a new one; c again on a third.
        #expect(
            peer.connections == 3 && peer.requests == 4, "\(peer.connections) connections, \(peer.requests) requests")
    }

    @Test func chunkedResponse() throws {
        let peer = try CannedPeer(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n")
        defer { peer.stop() }
        #expect(try HTTPClient().get("http://127.0.0.1:\(peer.port)/", timeout: 2).bodyText == "Wikipedia")
    }

    @Test func closeDelimitedResponse() throws {
        let peer = try CannedPeer("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end")
        defer { peer.stop() }
        #expect(try HTTPClient().get("http://127.0.0.1:\(peer.port)/", timeout: 2).bodyText == "until the end")
    }

    @Test(arguments: [
        "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort", "HTTP/1.1 OK\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\nx",
    ])
    func truncatedOrMalformedResponsesAreProtocolErrors(_ reply: String) throws {
        let peer = try CannedPeer(reply)
        defer { peer.stop() }
        #expect {
            _ = try HTTPClient().get("http://127.0.0.1:\(peer.port)/", timeout: 2)
        } throws: { error in
            guard case HTTPClientError.protocolError = error else { return false }
            return true
        }
    }

    @Test func silentPeerTimesOutAtTheDeadline() throws {
        let peer = try CannedPeer(reply: nil)
        defer { peer.stop() }
        let start = Deadline.now
        #expect(throws: HTTPClientError.timedOut("127.0.0.1:\(peer.port)")) {
            _ = try HTTPClient().get("http://127.0.0.1:\(peer.port)/", timeout: 0.3)
        }
        let elapsed = secondsSince(start)
        #expect(elapsed >= 0.3 && elapsed < 1.5)
    }

    @Test func refusedPortIsReported() throws {
        let port = freePort()
        #expect(throws: HTTPClientError.connectionRefused("127.0.0.1:\(port)")) {
            _ = try HTTPClient().get("http://127.0.0.1:\(port)/", timeout: 2)
        }
    }

    @Test func unknownNameIsReported() {
        // getaddrinfo asked for numeric hosts only answers EAI_NONAME at once, with no DNS server to wait for.
        var configuration = ClientConfiguration()
        configuration.resolver = Resolver { host, port in try Resolver.lookup(host: host, port: port, numericOnly: true)
        }
        let start = Deadline.now
        #expect {
            _ = try HTTPClient(configuration: configuration).get("http://no-such-host.invalid:9080/", timeout: 3)
        } throws: { error in
            guard let error = error as? HTTPClientError, case .nameNotFound = error else { return false }
            return true
        }
        #expect(secondsSince(start) < 2.5, "a name error, not the deadline")
    }

    @Test func invalidURLsAndHeadersAreRejected() {
        #expect(throws: HTTPClientError.self) { _ = try HTTPClient().get("https://x/", timeout: 1) }
        #expect(throws: HTTPClientError.self) { _ = try HTTPClient().get("http://x:99999/", timeout: 1) }
        #expect(throws: HTTPClientError.self) { _ = try HTTPClient().get("http://a b:80/", timeout: 1) }
        #expect(throws: HTTPClientError.self) { _ = try HTTPClient().get("http://[zz]:80/", timeout: 1) }
        #expect(throws: HTTPClientError.invalidHeader("X")) {
            _ = try HTTPClient().get("http://127.0.0.1:1/", headers: ["X": "a\r\nb"], timeout: 1)
        }
    }
}
