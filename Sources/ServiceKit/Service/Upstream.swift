import HTTPKit
import SystemKit
/// An upstream service called over HTTP, with its outbound metrics.
public struct Upstream: Sendable {
    public let name: String
    public let baseURL: String
    /// `baseURL` parsed once (`http://host:port`); calls only set their path.
    let base: HTTPClient.URL
    let client: HTTPClient
    let metrics: UpstreamMetrics

    /// The upstream's host name, as parsed from `baseURL`.
    public var host: String { base.host }

    /// Calls `baseURL + path` and records `http_client_requests_total{upstream,code}`, where code is the status
    /// or the kind of failure (`timeout`, `refused`, ...).
    public func call(
        _ method: HTTPMethod = .get, _ path: String, headers: HTTPHeaders = [:], body: [UInt8] = [], timeout: Double
    ) throws(HTTPClientError) -> ClientResponse {
        let start = monotonicNanos()
        let result = client.perform([makeCall(method, path, headers, body, timeout)])[0]
        record(result, start)
        return try result.get()
    }

    /// A reply step calling `baseURL + path`: `then` gets the result, recorded like `call`'s. On the server the
    /// event loop makes the call without blocking.
    public func reply(
        _ method: HTTPMethod = .get, _ path: String, headers: HTTPHeaders = [:], body: [UInt8] = [], timeout: Double,
        then: @escaping @Sendable (Result<ClientResponse, HTTPClientError>) throws -> Reply
    ) -> Reply {
        let start = monotonicNanos()
        return .call(makeCall(method, path, headers, body, timeout)) { result in
            record(result, start)
            return try then(result)
        }
    }

    /// Several calls at once as one reply step, each recorded like `call`; `then` gets the results in order.
    public static func replyAll(
        _ calls: [(upstream: Upstream, path: String)], headers: HTTPHeaders, timeout: Double,
        then: @escaping @Sendable (Reply.Results) throws -> Reply
    ) -> Reply {
        let start = monotonicNanos()
        let deadline = Deadline.after(seconds: timeout)
        let upstreams = calls.map(\.upstream)
        return .calls(
            calls.map { HTTPClient.Call(.get, $0.upstream.url($0.path), headers: headers, deadline: deadline) }
        ) { results in
            for (upstream, result) in zip(upstreams, results) { upstream.record(result, start) }
            return try then(results)
        }
    }

    private func record(_ result: Result<ClientResponse, HTTPClientError>, _ start: UInt64) {
        switch result {
        case .success(let response): record(String(response.status.code), start)
        case .failure(let error): record(error.kind, start)
        }
    }

    private func makeCall(
        _ method: HTTPMethod, _ path: String, _ headers: HTTPHeaders, _ body: [UInt8], _ timeout: Double
    ) -> HTTPClient.Call {
        HTTPClient.Call(method, url(path), headers: headers, body: body, deadline: .after(seconds: timeout))
    }

    func url(_ path: String) -> HTTPClient.URL {
        var url = base
        url.target = path
        return url
    }

    private func record(_ code: String, _ start: UInt64) {
        metrics.record(code, seconds: Double(nanos(since: start)) / 1e9)
    }
}

/// An upstream's outbound series (`http_client_requests_total{upstream,code}` and the duration histogram), each
/// looked up by its labels once and then kept.
final class UpstreamMetrics: Sendable {
    private let name: String
    private let requests: MetricFamily
    private let duration: MetricSeries
    private let byCode = Lock(KnownSeries<String>())

    init(name: String, requests: Counter, duration: Histogram) {
        self.name = name
        self.requests = requests.family
        self.duration = duration.family.series([name])
    }

    func record(_ code: String, seconds: Double) {
        let count = byCode.withLock { $0.series(code) { requests.series([name, code]) } }
        count.add(1)
        duration.observe(seconds)
    }
}
