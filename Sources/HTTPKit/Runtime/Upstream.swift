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

    /// Several calls at once from this thread (see `HTTPClient.perform`), each recorded like `call`.
    public static func callAll(
        _ calls: [(upstream: Upstream, path: String)], headers: HTTPHeaders, timeout: Double
    ) -> [Result<ClientResponse, HTTPClientError>] {
        guard let client = calls.first?.upstream.client else { return [] }
        let start = monotonicNanos()
        let deadline = Deadline.after(seconds: timeout)
        var prepared: [HTTPClient.Call?] = []
        for (upstream, path) in calls { prepared.append((try? HTTPClient.URL(upstream.baseURL + path)).map { HTTPClient.Call(.get, $0, headers: headers, deadline: deadline) }) }
        let valid = prepared.compactMap { $0 }
        var answers = client.perform(valid)[...]
        var results: [Result<ClientResponse, HTTPClientError>] = []
        for (index, call) in prepared.enumerated() {
            let result: Result<ClientResponse, HTTPClientError> = call == nil ? .failure(.invalidURL(calls[index].upstream.baseURL + calls[index].path)) : answers.removeFirst()
            switch result {
            case .success(let response): calls[index].upstream.record(String(response.status.code), start)
            case .failure(let error): calls[index].upstream.record(error.kind, start)
            }
            results.append(result)
        }
        return results
    }

    private func record(_ code: String, _ start: UInt64) {
        requests.increment([name, code])
        duration.observe(Double(nanos(since: start)) / 1e9, [name])
    }
}
