#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import HTTPKit
import Synchronization

/// One or more etcd client URLs, tried in turn within a total deadline, starting from the last one that worked.
final class EtcdEndpoints: Sendable {
    let upstreams: [Upstream]
    let hosts: [String]
    let totalTimeout: Double
    private let preferred = Atomic<Int>(0)

    init(_ upstreams: [Upstream], totalTimeout: Double) {
        self.upstreams = upstreams
        hosts = upstreams.map { (try? HTTPClient.URL($0.baseURL).host) ?? $0.baseURL }
        self.totalTimeout = totalTimeout
    }

    /// Sends the request to the first endpoint that answers, or throws 503 naming every endpoint that failed. Connection failures, timeouts and 502/503/504 from
    /// a proxy move on to the next endpoint, with a short pause after each full round, until the deadline.
    func send(_ method: HTTPMethod, _ path: String, headers: HTTPHeaders = [:], body: [UInt8] = []) throws -> (ClientResponse, host: String) {
        let deadline = Deadline.after(seconds: totalTimeout)
        var failures: [String] = []
        var index = preferred.load(ordering: .relaxed)
        var pause: UInt32 = 25_000
        while true {
            let slot = index % upstreams.count
            let remaining = Double(deadline.remainingMilliseconds) / 1000
            if remaining <= 0 { break }
            do {
                let response = try upstreams[slot].call(method, path, headers: headers, body: body, timeout: min(remaining, max(0.5, totalTimeout / 2)))
                if [502, 503, 504].contains(response.status.code) {
                    failures.append("\(upstreams[slot].baseURL) answered \(response.status.code)")
                } else {
                    preferred.store(slot, ordering: .relaxed)
                    return (response, hosts[slot])
                }
            } catch {
                let reason = (error as? HTTPClientError).map { $0.kind.replacingUnderscores } ?? "\(error)"
                failures.append("\(upstreams[slot].baseURL): \(reason)")
            }
            index += 1
            if index % upstreams.count == preferred.load(ordering: .relaxed) % upstreams.count {
                guard Double(deadline.remainingMilliseconds) / 1000 > Double(pause) / 1e6 else { break }
                usleep(pause)
                pause = min(pause * 2, 200_000)
            }
        }
        var distinct: [String] = []
        for failure in failures where !distinct.contains(failure) { distinct.append(failure) }
        let tried = distinct.joined(separator: "; ")
        throw HTTPError(.serviceUnavailable, "etcd unavailable after \(failures.count) attempt(s) in \(totalTimeout)s: \(tried.isEmpty ? upstreams.map(\.baseURL).joined(separator: ", ") : tried)")
    }
}

extension String {
    var replacingUnderscores: String { String(map { $0 == "_" ? " " : $0 }) }
}
