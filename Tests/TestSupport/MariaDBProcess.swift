import Foundation
import HTTPKit
import SystemKit

/// A real MariaDB from Debian's `mariadbd`, started by the suite's own `docker/mysqldb/mysqldb.sh` (as the image
/// and `run-local.sh --with-mysql` start it) on a loopback port with a temporary data directory.
public final class MariaDBProcess: @unchecked Sendable {
    public static let password = "ratings-test-pass"
    public let directory: URL
    public let port = freePort()
    private var process: Process?
    public private(set) var log = ""

    public static var script: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docker/mysqldb/mysqldb.sh")
    }

    public static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: "/usr/sbin/mariadbd") }

    public init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("mariadb-\(UUID().uuidString)")
        try start()
    }

    public var logURL: URL { directory.appendingPathComponent("mariadb.log") }

    /// Starts the server (again, on the same data and port) and waits until it accepts a TCP connection.
    public func start() throws {
        guard Self.isInstalled else {
            throw ProcessFailure(description: "MariaDB is not installed (apt-get install mariadb-server)")
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: logURL.path) {
            _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        }
        let process = Process()
        process.executableURL = Self.script
        process.environment = [
            "PATH": "/usr/sbin:/usr/bin:/bin", "MYSQL_ROOT_PASSWORD": Self.password,
            "MYSQLDB_DATA_DIR": directory.appendingPathComponent("data").path,
            "MYSQLDB_RUN_DIR": directory.appendingPathComponent("run").path, "MYSQLDB_PORT": String(port),
            "MYSQLDB_BIND_ADDRESS": "127.0.0.1",
        ]
        let handle = try FileHandle(forWritingTo: logURL)
        handle.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        self.process = process
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            guard process.isRunning else { break }
            if (try? Connector.connect(
                host: "127.0.0.1", port: port, deadline: .after(seconds: 1), resolver: .shared)) != nil,
                serverLog.contains("ready for connections")
            {
                return
            }
            usleep(50_000)
        }
        throw ProcessFailure(description: "MariaDB did not start on port \(port): \(serverLog.suffix(2000))")
    }

    public var serverLog: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    /// Stops the server with SIGTERM (a clean shutdown) or `signal`, and waits for it to exit.
    public func stop(signal: Int32 = SIGTERM) {
        guard let process, process.isRunning else { return }
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
    }

    deinit {
        stop(signal: SIGKILL)
        try? FileManager.default.removeItem(at: directory)
    }
}
