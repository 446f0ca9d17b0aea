#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// Writes JSON lines, one `write(2)` per line, to standard output (or any descriptor).
public struct Logger: Sendable {
    public let service: String
    public let version: String
    let fd: Int32
    let enabled: Bool

    public init(service: String, version: String, fd: Int32 = 1, enabled: Bool = true) {
        self.service = service
        self.version = version
        self.fd = fd
        self.enabled = enabled
    }

    /// A logger that writes nothing, for tests.
    public static func discarding(service: String = "test") -> Logger {
        Logger(service: service, version: "test", fd: -1, enabled: false)
    }

    public func info(_ message: String, _ fields: [(String, JSON)] = []) { log("info", message, fields) }
    public func warning(_ message: String, _ fields: [(String, JSON)] = []) { log("warning", message, fields) }
    public func error(_ message: String, _ fields: [(String, JSON)] = []) { log("error", message, fields) }

    public func log(_ level: String, _ message: String, _ fields: [(String, JSON)]) {
        guard enabled, fd >= 0 else { return }
        var members: [(String, JSON)] = [
            ("time", .string(rfc3339Now())), ("level", .string(level)), ("service", .string(service)),
            ("version", .string(version)), ("message", .string(message)),
        ]
        members.append(contentsOf: fields)
        var bytes = JSON.object(members).bytes()
        bytes.append(0x0A)
        bytes.withUnsafeMutableBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n <= 0 {
                    if n < 0, errno == EINTR { continue }
                    return
                }
                offset += n
            }
        }
    }
}

/// Trace identity taken from whichever tracing header arrived.
public enum TraceContext {
    /// The trace id from `traceparent`, `x-b3-traceid` or `b3`, or "".
    public static func traceID(_ headers: HTTPHeaders) -> String {
        if let parent = headers["traceparent"] {
            let parts = parent.split(separator: "-")
            if parts.count >= 4, parts[1].utf8.count == 32 { return String(parts[1]) }
        }
        if let b3 = headers["x-b3-traceid"], !b3.isEmpty, b3.utf8.count <= 32 { return b3 }
        if let single = headers["b3"], let first = single.split(separator: "-").first, first.utf8.count >= 16 {
            return String(first)
        }
        return ""
    }
}
