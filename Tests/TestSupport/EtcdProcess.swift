import Foundation
import HTTPKit
import SystemKit

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
