import Foundation
import HTTPKit

/// Where the built executables are: `BOOKINFO_BIN_DIR`, else beside the test bundle.
public func binaryDirectory() -> URL {
    if let dir = ProcessInfo.processInfo.environment["BOOKINFO_BIN_DIR"], !dir.isEmpty {
        return URL(fileURLWithPath: dir)
    }
    var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    while url.path != "/" {
        url.deleteLastPathComponent()
        if FileManager.default.fileExists(atPath: url.appendingPathComponent("details").path) { return url }
    }
    return URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(".build/debug")
}

public struct ProcessFailure: Error, CustomStringConvertible {
    public let description: String
}

/// One of the suite's executables, started on a free port with its log in a file.
public final class ServiceProcess: @unchecked Sendable {
    public let name: String
    public let process = Process()
    public let logURL: URL
    public private(set) var port = 0
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Starts `executable` with PORT=0 (unless given) and waits until it listens and `readyPath` answers 200
    /// (`/health` for a service that is up but not ready, such as ratings v2 with its database down).
    public init(
        _ executable: String, _ environment: [String: String] = [:], arguments: [String] = [], waitReady: Bool = true,
        readyPath: String = "/ready"
    ) throws {
        name = executable
        logURL = FileManager.default.temporaryDirectory.appendingPathComponent("\(executable)-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        process.executableURL = binaryDirectory().appendingPathComponent(executable)
        process.arguments = arguments
        var env = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "PORT": "0",
            "HTTP_SERVER_HOST": "127.0.0.1",
        ]
        env.merge(environment) { $1 }
        process.environment = env
        let handle = try FileHandle(forWritingTo: logURL)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        guard waitReady else { return }
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, port == 0 {
            if !process.isRunning { throw ProcessFailure(description: "\(executable) exited: \(log)") }
            if let range = log.range(of: #""port":(\d+)"#, options: .regularExpression) {
                port = Int(log[range].dropFirst(7)) ?? 0
            }
            if port == 0 { usleep(20_000) }
        }
        guard port > 0 else { throw ProcessFailure(description: "\(executable) did not start: \(log)") }
        let client = HTTPClient()
        while Date() < deadline {
            if let response = try? client.get(baseURL + readyPath, timeout: 1), response.status == .ok { return }
            usleep(20_000)
        }
        throw ProcessFailure(description: "\(executable) never became ready: \(log)")
    }

    public var log: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    /// Sends a signal and waits for the exit; returns the exit status (nil if it had to be killed).
    @discardableResult
    public func stop(signal: Int32 = SIGTERM, timeout: Double = 5) -> Int32? {
        guard process.isRunning else { return process.terminationStatus }
        kill(process.processIdentifier, signal)
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { usleep(10_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return nil
        }
        return process.terminationStatus
    }

    /// Runs an executable to completion and returns its exit status and output.
    public static func run(_ executable: String, _ environment: [String: String] = [:], arguments: [String] = []) throws
        -> (Int32, String)
    {
        let process = Process()
        process.executableURL = binaryDirectory().appendingPathComponent(executable)
        process.arguments = arguments
        process.environment = ["PATH": "/usr/bin:/bin"].merging(environment) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    deinit { stop(signal: SIGKILL, timeout: 1) }
}

/// A free TCP port on 127.0.0.1 (bound and released; the usual small race applies).
public func freePort() -> Int {
    guard let listener = try? Listener(host: "127.0.0.1", port: 0) else { return 0 }
    defer { listener.socket.close() }
    return listener.port
}

/// A real etcd from the machine's `etcd` binary, on loopback ports and a temporary data directory.
public final class EtcdProcess: @unchecked Sendable {
    public let dataDirectory: URL
    public let clientPort = freePort()
    public let peerPort = freePort()
    public var url: String { "http://127.0.0.1:\(clientPort)" }
    private var process: Process?

    public static var executable: String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") + ["/usr/bin"] {
            let path = "\(dir)/etcd"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    public init() throws {
        dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("etcd-\(UUID().uuidString)")
        try start()
    }

    public func start() throws {
        guard let executable = Self.executable else {
            throw ProcessFailure(description: "etcd is not installed (apt-get install etcd-server)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        let client = "http://127.0.0.1:\(clientPort)", peer = "http://127.0.0.1:\(peerPort)"
        process.arguments = [
            "--name", "test", "--data-dir", dataDirectory.path, "--listen-client-urls", client,
            "--advertise-client-urls", client,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", "test=\(peer)",
            "--enable-v2=true", "--logger=zap", "--log-outputs=stderr",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        let deadline = Date().addingTimeInterval(15)
        let http = HTTPClient()
        while Date() < deadline {
            if let response = try? http.get(client + "/health", timeout: 1), response.bodyText.contains("true") {
                return
            }
            usleep(50_000)
        }
        throw ProcessFailure(description: "etcd did not become healthy on \(client)")
    }

    public func stop() {
        guard let process, process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: dataDirectory)
    }
}

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
            "--initial-cluster", cluster, "--initial-cluster-state", "new", "--logger=zap", "--log-outputs=stderr",
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
