/// An upstream service called over HTTP, with its outbound metrics.
public struct Upstream: Sendable {
    public let name: String
    public let baseURL: String
    /// `baseURL` parsed once (`http://host:port`); calls only set their path.
    let base: HTTPClient.URL
    let client: HTTPClient
    let requests: Counter
    let duration: Histogram

    /// Calls `baseURL + path` and records `http_client_requests_total{upstream,code}`, where code is the status
    /// or the kind of failure (`timeout`, `refused`, ...).
    public func call(
        _ method: HTTPMethod = .get, _ path: String, headers: HTTPHeaders = [:], body: [UInt8] = [], timeout: Double
    ) throws -> ClientResponse {
        let start = monotonicNanos()
        do {
            let response = try client.request(method, url(path), headers: headers, body: body, deadline: .after(seconds: timeout))
            record(String(response.status.code), start)
            return response
        } catch let error as HTTPClientError {
            record(error.kind, start)
            throw error
        }
    }

    /// Several calls at once from this thread (see `HTTPClient.perform`), each recorded like `call`.
    public static func callAll(
        _ calls: [(upstream: Upstream, path: String)], headers: HTTPHeaders, timeout: Double
    ) -> [Result<ClientResponse, HTTPClientError>] {
        guard let client = calls.first?.upstream.client else { return [] }
        let start = monotonicNanos()
        let deadline = Deadline.after(seconds: timeout)
        let results = client.perform(calls.map { HTTPClient.Call(.get, $0.upstream.url($0.path), headers: headers, deadline: deadline) })
        for (call, result) in zip(calls, results) {
            switch result {
            case .success(let response): call.upstream.record(String(response.status.code), start)
            case .failure(let error): call.upstream.record(error.kind, start)
            }
        }
        return results
    }

    func url(_ path: String) -> HTTPClient.URL {
        var url = base
        url.target = path
        return url
    }

    private func record(_ code: String, _ start: UInt64) {
        requests.increment([name, code])
        duration.observe(Double(nanos(since: start)) / 1e9, [name])
    }
}
