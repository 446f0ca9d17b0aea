import Foundation
import HTTPKit
import Synchronization
import TestSupport
import Testing
import SystemKit
import ServiceKit

/// The storage app on a real three-member etcd cluster: the leader killed under writes, then quorum lost and
/// regained, with the app running throughout.
final class Flag: Sendable {
    private let value = Atomic(false)
    var isSet: Bool { value.load(ordering: .relaxed) }
    func set() { value.store(true, ordering: .relaxed) }
}

@Suite(.serialized, .enabled(if: etcdAvailable, "etcd is not installed (scripts/test.sh installs it)"))
struct EtcdClusterTests {
    struct Outcome {
        var acknowledged: [String] = []
        var failures: [String] = []
        var slowest = 0.0
    }

    /// Writers putting distinct keys through the app until `stop` is set.
    func write(_ app: ServiceProcess, writers: Int, stop: Flag) -> Outcome {
        let outcome = Lock(Outcome())
        DispatchQueue.concurrentPerform(iterations: writers) { writer in
            let client = HTTPClient()
            var n = 0
            while !stop.isSet {
                let key = "w\(writer)-\(n)"
                n += 1
                let body = Array(#"{"key":"\#(key)","value":"v-\#(key)"}"#.utf8)
                let start = Deadline.now
                let response = try? client.request(
                    .put, app.baseURL + "/storage", headers: ["Content-Type": "application/json"], body: body,
                    timeout: 15)
                let seconds = Double(Deadline.now.nanos - start.nanos) / 1e9
                outcome.withLock {
                    $0.slowest = max($0.slowest, seconds)
                    if response?.status == .created {
                        $0.acknowledged.append(key)
                    } else {
                        $0.failures.append(
                            "\(key): \(response.map { "\($0.status.code) \($0.bodyText)" } ?? "no answer")")
                    }
                }
            }
        }
        return outcome.withLock { $0 }
    }

    func readDirectly(_ member: EtcdCluster.Member, _ key: String) -> String? {
        let request = JSON.object([("key", .string(Base64.encode(Array("/\(key)".utf8))))])
        guard
            let response = try? HTTPClient().request(
                .post, member.url + "/v3/kv/range", body: request.bytes(), timeout: 5),
            let json = try? JSON.parse(response.body),
            let value = json["kvs"]?.arrayValue?.first?["value"]?.stringValue,
            let bytes = Base64.decode(value)
        else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test func theLeaderKilledUnderWritesFailsAndLosesNoWriteThenQuorumComesBack() throws {
        let cluster = try EtcdCluster(size: 3)
        let app = try ServiceProcess("storage-app", ["ETCD_ENDPOINTS": cluster.endpoints, "LOG_REQUESTS": "false"])
        defer { app.stop() }
        let leader = try #require(cluster.leader())

        let stop = Flag()
        let killer = Thread {
            usleep(1_500_000)
            cluster.stop(leader, signal: SIGKILL)
            usleep(4_000_000)
            stop.set()
        }
        killer.start()
        let outcome = write(app, writers: 4, stop: stop)
        #expect(outcome.failures.isEmpty, "\(outcome.failures.count) failed: \(outcome.failures.prefix(3))")
        #expect(outcome.slowest < 5, "the slowest write took \(outcome.slowest) s")
        #expect(outcome.acknowledged.count > 100, "\(outcome.acknowledged.count) writes acknowledged")
        let newLeader = cluster.leader()
        #expect(newLeader != nil && newLeader != leader)

        // Every acknowledged write is there, through the app and in etcd itself.
        let survivor = cluster.members[(leader + 1) % 3]
        let http = HTTPClient()
        var missing: [String] = []
        for key in outcome.acknowledged {
            if readDirectly(survivor, key) != "v-\(key)" { missing.append("etcd: \(key)") }
        }
        for key in outcome.acknowledged.shuffled().prefix(200) {
            let read = try? http.get(
                app.baseURL + "/storage/\(key)", headers: ["Accept": "application/json"], timeout: 5)
            if read?.bodyText.contains(#""value":"v-\#(key)""#) != true { missing.append("app: \(key)") }
        }
        #expect(missing.isEmpty, "\(missing.count) missing: \(missing.prefix(3))")

        // A second member stopped: no quorum. Writes and (linearizable) reads answer 503 within ETCD_TIMEOUT,
        // naming the endpoints.
        let second = (leader + 1) % 3
        cluster.stop(second)
        let start = Deadline.now
        let refused = try http.request(
            .put, app.baseURL + "/storage", headers: ["Content-Type": "application/json"],
            body: Array(#"{"key":"noquorum","value":"x"}"#.utf8), timeout: 15)
        let seconds = Double(Deadline.now.nanos - start.nanos) / 1e9
        #expect(refused.status == .serviceUnavailable, "\(refused.bodyText)")
        #expect(refused.bodyText.contains(cluster.members[(leader + 2) % 3].url), "\(refused.bodyText)")
        #expect(seconds < 7, "503 after \(seconds) s")
        let unread = try http.get(app.baseURL + "/storage/\(outcome.acknowledged[0])", timeout: 15)
        #expect(unread.status == .serviceUnavailable)

        // Both back: the app recovers without a restart.
        try cluster.start(leader)
        try cluster.start(second)
        try cluster.waitHealthy(leader)
        let back = try http.request(
            .put, app.baseURL + "/storage", headers: ["Content-Type": "application/json"],
            body: Array(#"{"key":"after","value":"quorum"}"#.utf8), timeout: 15)
        #expect(back.status == .created, "\(back.bodyText)")
        let key = outcome.acknowledged[outcome.acknowledged.count / 2]
        #expect(try http.get(app.baseURL + "/storage/\(key)", timeout: 10).bodyText.contains("v-\(key)"))
        #expect(app.process.isRunning)
    }
}
