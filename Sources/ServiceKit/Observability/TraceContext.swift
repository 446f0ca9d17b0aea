import HTTPKit
import SystemKit
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
