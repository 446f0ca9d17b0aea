import Foundation
import HTTPKit

/// An in-process HTTPKit server on 127.0.0.1 and a free port, stopped by `stop()`.
public final class TestServer: @unchecked Sendable {
    public let server: HTTPServer
    public var port: Int { server.port }
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    public init(
        configure: (inout ServerConfiguration) -> Void = { _ in },
        offload: @escaping @Sendable (inout Request) -> Bool = { _ in true },
        handler: @escaping Handler
    ) throws {
        server = HTTPServer(configuration: Self.loopback(configure), handler: handler, offload: offload)
        try server.start()
    }

    /// Inline routes run on the event loop, the others on the worker pool, as in a service; upstream calls of
    /// replies are made by the loop.
    public init(configure: (inout ServerConfiguration) -> Void = { _ in }, client: HTTPClient = .shared, router: Router)
        throws
    {
        server = HTTPServer(
            configuration: Self.loopback(configure), client: client, replyHandler: { router.reply(to: $0).reply },
            offload: { router.execution(for: &$0) == .blocking })
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
