import Foundation
import HTTPKit
import SystemKit

/// Sits in front of a real service: records each request's headers, then forwards it unchanged.
public final class RecordingProxy: @unchecked Sendable {
    public let server: TestServer
    private final class Log: Sendable {
        let entries = Lock<[HTTPHeaders]>([])
    }
    private let seen = Log()
    public var port: Int { server.port }

    public init(to target: @escaping @Sendable () -> String) throws {
        let seen = self.seen
        let client = HTTPClient()
        server = try TestServer { request in
            seen.entries.withLock { $0.append(request.headers) }
            var headers = request.headers
            for hop in ["Host", "Connection", "Content-Length", "Transfer-Encoding"] { headers.remove(hop) }
            do {
                let response = try client.request(
                    request.method, target() + request.target, headers: headers, body: request.body, timeout: 15)
                var out = Response(status: response.status, headers: [:], body: response.body)
                if let type = response.headers["Content-Type"] { out.headers.add("Content-Type", type) }
                return out
            } catch {
                return HTTPError(.badGateway, "proxy: \(error)").response
            }
        }
    }

    public var requests: [HTTPHeaders] { seen.entries.withLock { $0 } }
    public func reset() { seen.entries.withLock { $0.removeAll() } }
    public func stop() { server.stop() }
}

/// A cookie jar of one cookie, enough for a session.
public struct CookieJar {
    public var cookies: [String: String] = [:]
    public init() {}
    public mutating func store(from response: ClientResponse) {
        for header in response.headers.values("Set-Cookie") {
            guard let pair = header.split(separator: ";").first else { continue }
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { continue }
            if header.contains("Max-Age=0") {
                cookies.removeValue(forKey: String(parts[0]))
            } else {
                cookies[String(parts[0])] = String(parts[1])
            }
        }
    }
    public var header: String { cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }
}
