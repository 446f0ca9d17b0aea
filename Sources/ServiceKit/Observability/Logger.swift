#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import Dispatch
import HTTPKit
import SystemKit

/// Writes JSON lines, whole, in batches, to standard output (or any descriptor).
public struct Logger: Sendable {
    public let service: String
    public let version: String
    /// Whether `logRequest` writes (`LOG_REQUESTS`); start-up, drain and warning lines are always written.
    let logsRequests: Bool
    private let sink: LogSink?
    /// What every request line has between the time and the method, escaped once.
    private let requestFields: [UInt8]

    public init(service: String, version: String, fd: Int32 = 1, logsRequests: Bool = true) {
        self.service = service
        self.version = version
        self.logsRequests = logsRequests
        sink = fd >= 0 ? LogSink.shared(fd) : nil
        var fields: [UInt8] = []
        fields.append(literal: #"","level":"info","service":"#)
        fields.append(jsonString: service)
        fields.append(literal: #","version":"#)
        fields.append(jsonString: version)
        fields.append(literal: #","message":"request","method":"#)
        requestFields = fields
    }

    /// A logger that writes nothing, for tests.
    public static func discarding(service: String = "test") -> Logger {
        Logger(service: service, version: "test", fd: -1, logsRequests: false)
    }

    public func info(_ message: String, _ fields: [(String, JSON)] = []) { log("info", message, fields) }
    public func warning(_ message: String, _ fields: [(String, JSON)] = []) { log("warning", message, fields) }

    public func log(_ level: String, _ message: String, _ fields: [(String, JSON)]) {
        guard let sink else { return }
        var members: [(String, JSON)] = [
            ("time", .string(rfc3339Now())), ("level", .string(level)), ("service", .string(service)),
            ("version", .string(version)), ("message", .string(message)),
        ]
        members.append(contentsOf: fields)
        var bytes = JSON.object(members).bytes()
        bytes.append(0x0A)
        sink.append(bytes)
    }

    /// The per-request line, written without building a JSON tree (it is on every request's path).
    public func logRequest(
        method: String, route: String, path: String, status: Int, durationMicros: Int, bytes: Int,
        requestID: String, traceID: String, remote: String
    ) {
        guard logsRequests, let sink else { return }
        // Under 200 bytes of names, punctuation, time and numbers, the fixed fields, and the strings.
        let bound =
            320 + requestFields.count + jsonBound(method) + jsonBound(route) + jsonBound(path)
            + jsonBound(requestID) + jsonBound(traceID) + jsonBound(remote)
        ByteWriter.withWritten(upTo: bound) { out in
            func field(_ name: StaticString, _ value: String) {
                out.append(literal: name)
                out.append(jsonString: value)
            }
            func number(_ name: StaticString, _ value: Int) {
                out.append(literal: name)
                out.append(decimal: value)
            }
            out.append(literal: #"{"time":""#)
            appendRFC3339Now(to: &out)
            out.append(contentsOf: requestFields)
            out.append(jsonString: method)
            field(",\"route\":", route)
            field(",\"path\":", path)
            number(",\"status\":", status)
            out.append(literal: #","duration_ms":"#)
            out.append(decimal: durationMicros / 1000)
            out.append(UInt8(ascii: "."))
            out.append(decimal: durationMicros % 1000, width: 3)
            number(",\"bytes\":", bytes)
            field(",\"x_request_id\":", requestID)
            field(",\"trace_id\":", traceID)
            field(",\"remote\":", remote)
            out.append(literal: "}\n")
        } use: { line in
            sink.append(line)
        }
    }

    /// Writes out every buffered line; call before the process exits.
    public func flush() { sink?.flush() }
}
