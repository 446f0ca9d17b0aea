#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import Dispatch
import Synchronization

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
        let bound = 320 + requestFields.count + jsonBound(method) + jsonBound(route) + jsonBound(path)
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

/// Collects log lines and writes them in batches from a background thread (every few milliseconds, or at once
/// when 64 KiB are waiting), so that a busy server does not pay a system call per request. Lines stay whole.
final class LogSink: Sendable {
    private static let sinks = Mutex<[Int32: LogSink]>([:])
    private final class Stripe: Sendable {
        let buffer = Mutex<[UInt8]>([])
    }
    private let fd: Int32
    /// Striped by thread so that concurrent requests rarely wait on each other to log.
    private let stripes = (0..<16).map { _ in Stripe() }
    /// Held while writing; its value is the empty buffer the next stripe to be written gets in exchange.
    private let writing = Mutex<[UInt8]>([])
    /// Set by the first line after a flush, which also wakes the flusher: an idle service's flusher sleeps.
    private let armed = Atomic<Bool>(false)
    private let wake = DispatchSemaphore(value: 0)

    static func shared(_ fd: Int32) -> LogSink {
        sinks.withLock { sinks in
            if let sink = sinks[fd] { return sink }
            let sink = LogSink(fd: fd)
            sinks[fd] = sink
            startThread(stackSize: 128 * 1024) { sink.flushPeriodically() }
            return sink
        }
    }

    private init(fd: Int32) { self.fd = fd }

    func append(_ line: [UInt8]) {
        line.withUnsafeBufferPointer { append($0) }
    }

    func append(_ line: UnsafeBufferPointer<UInt8>) {
        let full = stripes[threadStripe(of: stripes.count)].buffer.withLock { buffer -> Bool in
            buffer.append(contentsOf: line)
            return buffer.count >= 64 * 1024
        }
        if full { flush() }
        if !armed.load(ordering: .relaxed), !armed.exchange(true, ordering: .acquiringAndReleasing) { wake.signal() }
    }

    /// Writes each stripe's lines: the stripe's buffer is swapped for an empty one, so nothing is copied and the
    /// loops wait only for the swap.
    func flush() {
        writing.withLock { spare in
            for stripe in stripes {
                stripe.buffer.withLock { swap(&$0, &spare) }
                guard !spare.isEmpty else { continue }
                spare.withUnsafeBytes { raw in
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
                spare.removeAll(keepingCapacity: spare.capacity <= 256 * 1024)
            }
        }
    }

    /// Writes at most every 5 ms while lines come, so that a busy service makes one write per batch of lines.
    private func flushPeriodically() {
        while true {
            wake.wait()
            usleep(5_000)
            // Lines appended from here on arm the flusher again; the flush below takes any that come before it.
            armed.store(false, ordering: .releasing)
            flush()
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
