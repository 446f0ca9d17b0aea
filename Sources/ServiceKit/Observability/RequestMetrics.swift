import HTTPKit
import SystemKit
/// The server's request counter (by method, route and status code) and duration histogram (by method and route).
/// Every request updates one series of each: they are looked up by their label strings once per route, method
/// and status, then kept in a table indexed by route and method, so answering a request hashes no labels.
final class RequestMetrics: Sendable {
    /// Methods counted under their own name; any other is counted as `other`.
    static let methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"]

    private struct Slot {
        var duration: MetricSeries?
        var byStatus = KnownSeries<Int>()
    }

    private let requests: MetricFamily
    private let duration: MetricFamily
    private let routeCount: Int
    /// `(routeCount + 1) × (methods + 1)` slots: the last route row is for requests no route matched.
    private let slots: Lock<[Slot]>

    init(registry: MetricsRegistry, routeCount: Int) {
        requests =
            registry.counter(
                "http_server_requests_total", "Requests by method, route and status code",
                labels: ["method", "route", "code"]
            ).family
        duration =
            registry.histogram(
                "http_server_request_duration_seconds", "Request duration by method and route",
                labels: ["method", "route"]
            ).family
        self.routeCount = routeCount
        slots = Lock(Array(repeating: Slot(), count: (routeCount + 1) * (Self.methods.count + 1)))
    }

    /// Counts one answered request. `route` is the label of `routeIndex` (or of no route, when it is nil).
    func record(method: HTTPMethod, route: String, routeIndex: Int?, status: Int, seconds: Double) {
        let methodIndex = Self.methods.firstIndex(of: method.rawValue) ?? Self.methods.count
        let index = (routeIndex ?? routeCount) * (Self.methods.count + 1) + methodIndex
        let (count, time) = slots.withLock { slots -> (MetricSeries, MetricSeries) in
            let label = methodIndex < Self.methods.count ? Self.methods[methodIndex] : "other"
            let time = slots[index].duration ?? duration.series([label, route])
            slots[index].duration = time
            return (slots[index].byStatus.series(status) { requests.series([label, route, String(status)]) }, time)
        }
        count.add(1)
        time.observe(seconds)
    }
}
