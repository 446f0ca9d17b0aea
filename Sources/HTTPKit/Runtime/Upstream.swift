/// An upstream service called over HTTP, with its outbound metrics.
public struct Upstream: Sendable {
    public let name: String
    public let baseURL: String
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
            let response = try client.request(method, baseURL + path, headers: headers, body: body, timeout: timeout)
            record(String(response.status.code), start)
            return response
        } catch let error as HTTPClientError {
            record(error.kind, start)
            throw error
        }
    }

    private func record(_ code: String, _ start: UInt64) {
        requests.increment([name, code])
        duration.observe(Double(nanos(since: start)) / 1e9, [name])
    }
}
