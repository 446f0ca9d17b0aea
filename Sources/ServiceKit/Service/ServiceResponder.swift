import HTTPKit
import SystemKit

/// A service's router, with one log line and the request metrics for every request it answers.
public struct ServiceResponder: Responder {
    let router: Router
    let logger: Logger
    let recorder: RequestMetrics

    public func route(_ request: consuming Request) -> Router.Routed { router.route(request) }

    public func reply(to routed: Router.Routed) -> Reply {
        let start = monotonicNanos()
        let reply = routed.reply()
        // A response now is finished in place; only a reply with more steps needs `finish` kept as a closure.
        if case .response(let response) = reply { return .response(finish(response, routed, start)) }
        return reply.map { [self] in finish($0, routed, start) }
    }

    private func finish(_ response: Response, _ routed: Router.Routed, _ start: UInt64) -> Response {
        let seconds = Double(nanos(since: start)) / 1e9
        let request = routed.request, route = routed.route ?? "unmatched"
        recorder.record(
            method: request.method, route: route, routeIndex: routed.routeIndex, status: response.status.code,
            seconds: seconds)
        logger.logRequest(
            method: request.method.rawValue, route: route, path: request.path, status: response.status.code,
            durationMicros: Int(seconds * 1e6), bytes: response.body.count,
            requestID: request.headers["x-request-id"] ?? "", traceID: TraceContext.traceID(request.headers),
            remote: request.remoteAddress)
        return response
    }
}
