import Foundation
import HTTPKit
import SystemKit

/// A real etcd cluster of `size` members on loopback, each with its own data directory, started together.
public final class EtcdCluster: @unchecked Sendable {
    public struct Member {
        public let name: String
        public let clientPort: Int
        public let peerPort: Int
        public let dataDirectory: URL
        public var url: String { "http://127.0.0.1:\(clientPort)" }
    }

    public let members: [Member]
    private var processes: [Process?]
    public var endpoints: String { members.map(\.url).joined(separator: ",") }

    public init(size: Int = 3) throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("etcd-cluster-\(UUID().uuidString)")
        members = (0..<size).map { i in
            Member(
                name: "m\(i)", clientPort: freePort(), peerPort: freePort(),
                dataDirectory: base.appendingPathComponent("m\(i)"))
        }
        processes = Array(repeating: nil, count: size)
        for i in members.indices { try launch(i) }
        for i in members.indices { try waitHealthy(i) }
    }

    private func launch(_ i: Int) throws {
        guard let executable = EtcdProcess.executable else {
            throw ProcessFailure(description: "etcd is not installed (apt-get install etcd-server)")
        }
        let member = members[i]
        let cluster = members.map { "\($0.name)=http://127.0.0.1:\($0.peerPort)" }.joined(separator: ",")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = [
            "--name", member.name, "--data-dir", member.dataDirectory.path,
            "--listen-client-urls", member.url, "--advertise-client-urls", member.url,
            "--listen-peer-urls", "http://127.0.0.1:\(member.peerPort)",
            "--initial-advertise-peer-urls", "http://127.0.0.1:\(member.peerPort)",
            "--initial-cluster", cluster, "--initial-cluster-state", "new", "--pre-vote=true", "--logger=zap",
            "--log-outputs=stderr",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        processes[i] = process
    }

    /// Waits until member `i` says it is healthy (which needs a leader).
    public func waitHealthy(_ i: Int, timeout: Double = 20) throws {
        let deadline = Date().addingTimeInterval(timeout)
        let http = HTTPClient()
        while Date() < deadline {
            if let response = try? http.get(members[i].url + "/health", timeout: 1), response.bodyText.contains("true")
            {
                return
            }
            usleep(50_000)
        }
        throw ProcessFailure(description: "etcd member \(members[i].name) did not become healthy")
    }

    /// The index of the member that is leader now, asked of the first member that answers.
    public func leader() -> Int? {
        let http = HTTPClient()
        for (i, member) in members.enumerated() where processes[i]?.isRunning == true {
            guard
                let response = try? http.request(
                    .post, member.url + "/v3/maintenance/status", body: Array("{}".utf8), timeout: 2),
                let json = try? JSON.parse(response.body), let leader = json["leader"]?.stringValue,
                let own = json["header"]?["member_id"]?.stringValue
            else { continue }
            if leader == own { return i }
            // Another member leads: find which by its own status.
            for (j, other) in members.enumerated() where j != i && processes[j]?.isRunning == true {
                if let reply = try? http.request(
                    .post, other.url + "/v3/maintenance/status", body: Array("{}".utf8), timeout: 2),
                    let status = try? JSON.parse(reply.body), status["header"]?["member_id"]?.stringValue == leader
                {
                    return j
                }
            }
        }
        return nil
    }

    /// Kills member `i` with `signal` and waits for it to exit.
    public func stop(_ i: Int, signal: Int32 = SIGTERM) {
        guard let process = processes[i], process.isRunning else { return }
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
    }

    /// Starts member `i` again on its data directory (it rejoins the cluster it was part of).
    public func start(_ i: Int) throws { try launch(i) }

    deinit {
        for i in members.indices { stop(i, signal: SIGKILL) }
        if let first = members.first {
            try? FileManager.default.removeItem(at: first.dataDirectory.deletingLastPathComponent())
        }
    }
}
