import HTTPKit
import ServiceKit

/// The tracing and routing headers bookinfo copies from every inbound request to every outbound call.
public enum HeaderPropagation {
    /// The 20 names the original bookinfo services copy, `end-user` included.
    public static let names: [String] = [
        "x-request-id", "x-ot-span-context", "x-datadog-trace-id", "x-datadog-parent-id",
        "x-datadog-sampling-priority", "traceparent", "tracestate", "x-cloud-trace-context", "grpc-trace-bin",
        "x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid", "x-b3-sampled", "x-b3-flags", "sw8", "end-user",
        "user-agent", "cookie", "authorization", "jwt",
    ]

    /// The single-header B3 form, propagated with the others.
    public static let b3Single = "b3"

    /// The headers to send upstream, taken verbatim from the incoming ones. With `endUser` set, an incoming
    /// `end-user` is dropped and this value sent instead (productpage trusts only its own session).
    public static func outgoing(from incoming: HTTPHeaders, endUser: String?? = .none) -> HTTPHeaders {
        var out = HTTPHeaders()
        for name in names + [b3Single] {
            if name == "end-user", case .some = endUser { continue }
            for value in incoming.values(name) where MessageWriter.isValidValue(value) { out.add(name, value) }
        }
        if case .some(.some(let user)) = endUser, MessageWriter.isValidValue(user) { out.add("end-user", user) }
        return out
    }
}
