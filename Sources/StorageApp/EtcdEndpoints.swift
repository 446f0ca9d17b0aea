#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import HTTPKit
import Synchronization

/// Why etcd could not answer; the app turns it into 503 with the message.
struct EtcdUnavailable: Error, CustomStringConvertible {
    let description: String
}

/// One or more etcd client URLs, tried in turn within a total deadline, starting from the last one that worked.
final class EtcdEndpoints: Sendable {
    let urls: [String]
    let hosts: [String]
    let totalTimeout: Double
    let upstream: @Sendable (String) -> Upstream
    private let preferred = Atomic<Int>(0)

    init(urls: [String], totalTimeout: Double, upstream: @escaping @Sendable (String) -> Upstream) {
        self.urls = urls
        self.hosts = urls.map { (try? HTTPClient.URL($0).host) ?? $0 }
        self.totalTimeout = totalTimeout
        self.upstream = upstream
    }

    /// Sends the request to the first endpoint that answers. Connection failures, timeouts and 502/503/504 from
    /// a proxy move on to the next endpoint, with a short pause after each full round, until the deadline.
    func send(_ method: HTTPMethod, _ path: String, headers: HTTPHeaders = [:], body: [UInt8] = []) throws -> (ClientResponse, host: String) {
        let deadline = Deadline.after(seconds: totalTimeout)
        var failures: [String] = []
        var index = preferred.load(ordering: .relaxed)
        var pause: UInt32 = 25_000
        while true {
            let slot = index % urls.count
            let remaining = Double(deadline.remainingMilliseconds) / 1000
            if remaining <= 0 { break }
            do {
                let response = try upstream(urls[slot]).call(method, path, headers: headers, body: body, timeout: min(remaining, max(0.5, totalTimeout / 2)))
                if [502, 503, 504].contains(response.status.code) {
                    failures.append("\(urls[slot]) answered \(response.status.code)")
                } else {
                    preferred.store(slot, ordering: .relaxed)
                    return (response, hosts[slot])
                }
            } catch {
                let reason = (error as? HTTPClientError).map { $0.kind.replacingUnderscores } ?? "\(error)"
                failures.append("\(urls[slot]): \(reason)")
            }
            index += 1
            if index % urls.count == preferred.load(ordering: .relaxed) % urls.count {
                guard Double(deadline.remainingMilliseconds) / 1000 > Double(pause) / 1e6 else { break }
                usleep(pause)
                pause = min(pause * 2, 200_000)
            }
        }
        var distinct: [String] = []
        for failure in failures where !distinct.contains(failure) { distinct.append(failure) }
        let tried = distinct.joined(separator: "; ")
        throw EtcdUnavailable(description: "etcd unavailable after \(failures.count) attempt(s) in \(totalTimeout)s: \(tried.isEmpty ? urls.joined(separator: ", ") : tried)")
    }
}

extension String {
    var replacingUnderscores: String { String(map { $0 == "_" ? " " : $0 }) }
}
