#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import HTTPKit
import Synchronization
import ServiceKit
import SystemKit

/// One or more etcd client URLs, tried in turn within a total deadline, starting from the last one that worked.
final class EtcdEndpoints: Sendable {
    let upstreams: [Upstream]
    let totalTimeout: Double
    private let preferred = Atomic<Int>(0)

    init(_ upstreams: [Upstream], totalTimeout: Double) {
        self.upstreams = upstreams
        self.totalTimeout = totalTimeout
    }

    typealias Then = @Sendable (ClientResponse, _ host: String) throws -> Reply

    /// Sends the request to the first endpoint that answers; `then` gets its response and host. The first try
    /// goes to the endpoint that worked last, from the event loop; if it fails, the rest of the failover goes on
    /// on a worker within what is left of the total deadline (see `send`).
    func reply(
        _ method: HTTPMethod, _ path: String, headers: HTTPHeaders = [:], body: [UInt8] = [], then: @escaping Then
    ) -> Reply {
        let deadline = Deadline.after(seconds: totalTimeout)
        let slot = preferred.load(ordering: .relaxed) % upstreams.count
        return upstreams[slot].reply(method, path, headers: headers, body: body, timeout: attemptTimeout(deadline)) {
            [self] result in
            switch check(result, slot) {
            case .success(let response):
                return try then(response, upstreams[slot].host)
            case .failure(let failure):
                return .blocking { [self] in
                    let (response, host) = try send(
                        method, path, headers: headers, body: body, deadline: deadline, from: slot + 1,
                        failures: [failure.reason])
                    return try then(response, host)
                }
            }
        }
    }

    /// Goes on from endpoint `start` after the failures so far: the first endpoint that answers, or a 503 naming
    /// every endpoint that failed.
    /// Connection failures, timeouts and 502/503/504 from a proxy move on to the next endpoint, with a short pause
    /// after each full round, until the deadline. Blocks: for workers.
    private func send(
        _ method: HTTPMethod, _ path: String, headers: HTTPHeaders, body: [UInt8], deadline: Deadline, from start: Int,
        failures previous: [String]
    ) throws -> (ClientResponse, host: String) {
        var failures = previous
        var index = start
        var pause: UInt32 = 25_000
        while true {
            let slot = index % upstreams.count
            if slot == preferred.load(ordering: .relaxed) % upstreams.count {
                guard Double(deadline.remainingMilliseconds) / 1000 > Double(pause) / 1e6 else { break }
                usleep(pause)
                pause = min(pause * 2, 200_000)
            }
            if deadline.remainingMilliseconds <= 0 { break }
            let result = Result { () throws(HTTPClientError) in
                try upstreams[slot].call(method, path, headers: headers, body: body, timeout: attemptTimeout(deadline))
            }
            switch check(result, slot) {
            case .success(let response):
                preferred.store(slot, ordering: .relaxed)
                return (response, upstreams[slot].host)
            case .failure(let failure):
                failures.append(failure.reason)
            }
            index += 1
        }
        var distinct: [String] = []
        for failure in failures where !distinct.contains(failure) { distinct.append(failure) }
        let tried = distinct.joined(separator: "; ")
        throw HTTPError(
            .serviceUnavailable,
            "etcd unavailable after \(failures.count) attempt(s) "
                + "in \(totalTimeout)s: \(tried.isEmpty ? upstreams.map(\.baseURL).joined(separator: ", ") : tried)"
        )
    }

    private struct Failure: Error {
        let reason: String
    }

    /// A response that counts as an answer, or why this endpoint failed.
    private func check(_ result: Result<ClientResponse, HTTPClientError>, _ slot: Int) -> Result<
        ClientResponse, Failure
    > {
        switch result {
        case .success(let response) where [502, 503, 504].contains(response.status.code):
            return .failure(Failure(reason: "\(upstreams[slot].baseURL) answered \(response.status.code)"))
        case .success(let response):
            return .success(response)
        case .failure(let error):
            return .failure(Failure(reason: "\(upstreams[slot].baseURL): \(error.kind.replacingUnderscores)"))
        }
    }

    /// One try gets what is left, but at most a tenth of the total (at least 0.5 s): a member that holds a write it
    /// forwarded to a dead leader answers only when its own request timeout ends, long after the election, so
    /// short tries keep asking until a member with the new leader takes the write.
    private func attemptTimeout(_ deadline: Deadline) -> Double {
        min(Double(deadline.remainingMilliseconds) / 1000, max(0.5, totalTimeout / 10))
    }
}

extension String {
    var replacingUnderscores: String { String(map { $0 == "_" ? " " : $0 }) }
}
