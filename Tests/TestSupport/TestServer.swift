import Foundation
import HTTPKit
import SystemKit

/// An in-process HTTPKit server on 127.0.0.1 and a free port, stopped by `stop()`.
public final class TestServer: @unchecked Sendable {
    public let server: HTTPServer
    public var port: Int { server.port }
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    public init(
        configure: (inout ServerConfiguration) -> Void = { _ in }, execution: Router.Execution = .blocking,
        handler: @escaping Handler
    ) throws {
        server = HTTPServer(configuration: Self.loopback(configure), execution: execution, handler: handler)
        try server.start()
    }

    /// Inline routes run on the event loop, the others on the worker pool, as in a service; upstream calls of
    /// replies are made by the loop.
    public init(configure: (inout ServerConfiguration) -> Void = { _ in }, client: HTTPClient = .shared, router: Router)
        throws
    {
        server = HTTPServer(configuration: Self.loopback(configure), client: client, responder: router)
        try server.start()
    }

    /// 127.0.0.1 on a free port, then `configure`.
    private static func loopback(_ configure: (inout ServerConfiguration) -> Void) -> ServerConfiguration {
        var configuration = ServerConfiguration()
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configure(&configuration)
        return configuration
    }

    public func stop() { server.shutdown(timeout: 2) }
}

/// A peer that answers every connection with canned bytes (or nothing), to test the client's error paths.
public final class CannedPeer: @unchecked Sendable {
    public let listener: Listener
    public var port: Int { listener.port }

    /// - Parameter reply: what to send after the request head arrives; nil means never answer.
    public init(reply: [UInt8]?, closeAfter: Bool = true) throws {
        listener = try Listener(host: "127.0.0.1", port: 0)
        let listener = self.listener
        startThread {
            while let (socket, _) = try? listener.accept() {
                startThread {
                    var buffer = [UInt8](repeating: 0, count: 65536)
                    var received: [UInt8] = []
                    while !received.containsSubsequence(Array("\r\n\r\n".utf8)) {
                        let n =
                            (try? buffer.withUnsafeMutableBytes {
                                try socket.receive(into: $0, until: .after(seconds: 5))
                            }) ?? 0
                        if n <= 0 { return }
                        received.append(contentsOf: buffer[0..<n])
                    }
                    guard let reply else {
                        usleep(5_000_000)
                        socket.close()
                        return
                    }
                    try? socket.send(reply)
                    if closeAfter { socket.close() } else { usleep(5_000_000); socket.close() }
                }
            }
        }
    }

    public convenience init(_ text: String, closeAfter: Bool = true) throws {
        try self.init(reply: Array(text.utf8), closeAfter: closeAfter)
    }

    public func stop() {
        listener.shutdown()
    }
}

extension Array where Element == UInt8 {
    public func containsSubsequence(_ needle: [UInt8]) -> Bool {
        guard needle.count <= count else { return false }
        for start in 0...(count - needle.count) where self[start..<start + needle.count].elementsEqual(needle) {
            return true
        }
        return false
    }
}

/// A keep-alive peer that answers each GET with the last part of its path, except that each of its first `closing`
/// connections answers one request and then closes after reading the next, unanswered: a server whose idle timeout
/// fires as the request arrives. It counts connections and requests.
public final class ClosingPeer: @unchecked Sendable {
    public let listener: Listener
    public var port: Int { listener.port }
    private let counts = Lock((connections: 0, requests: 0))
    public var connections: Int { counts.withLock { $0.connections } }
    public var requests: Int { counts.withLock { $0.requests } }

    public init(closing: Int) throws {
        listener = try Listener(host: "127.0.0.1", port: 0)
        let listener = self.listener, counts = self.counts
        startThread {
            while let (socket, _) = try? listener.accept() {
                let index = counts.withLock {
                    $0.connections += 1
                    return $0.connections
                }
                startThread {
                    var pending: [UInt8] = []
                    var answered = 0
                    while let head = ClosingPeer.nextHead(socket, &pending) {
                        counts.withLock { $0.requests += 1 }
                        if index <= closing, answered == 1 { break }
                        let target = head.split(separator: " ").dropFirst().first ?? "/"
                        let word = target.split(separator: "/").last.map(String.init) ?? ""
                        try? socket.send(
                            Array("HTTP/1.1 200 OK\r\nContent-Length: \(word.utf8.count)\r\n\r\n\(word)".utf8))
                        answered += 1
                    }
                    socket.close()
                }
            }
        }
    }

    /// The next request head (a GET has no body), or nil when the peer closed or went silent for 5 s.
    static func nextHead(_ socket: Socket, _ pending: inout [UInt8]) -> String? {
        var buffer = [UInt8](repeating: 0, count: 8192)
        while true {
            if let end = (0..<max(0, pending.count - 3)).first(where: {
                pending[$0..<$0 + 4].elementsEqual(Array("\r\n\r\n".utf8))
            }) {
                let head = String(decoding: pending[..<end], as: UTF8.self)
                pending.removeFirst(end + 4)
                return head
            }
            let n =
                (try? buffer.withUnsafeMutableBytes { try socket.receive(into: $0, until: .after(seconds: 5)) }) ?? 0
            if n <= 0 { return nil }
            pending.append(contentsOf: buffer[0..<n])
        }
    }

    public func stop() { listener.shutdown() }
}
