import Foundation
import HTTPKit
import SystemKit
import ServiceKit

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
        // A sanitized test run's settings reach the services it starts (built with the same sanitizer).
        for name in ["ASAN_OPTIONS", "TSAN_OPTIONS", "LSAN_OPTIONS", "SWIFT_BACKTRACE"] {
            if let value = ProcessInfo.processInfo.environment[name] { env[name] = value }
        }
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
