#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import HTTPKit
import SystemKit

/// A Prometheus registry: counters, gauges and histograms with labels, rendered in text format 0.0.4.
public final class MetricsRegistry: Sendable {
    private let families = Lock<[MetricFamily]>([])

    public init() {}

    public func counter(_ name: String, _ help: String, labels: [String] = []) -> Counter {
        let family = MetricFamily(name: name, help: help, type: "counter", labelNames: labels, buckets: [])
        register(family)
        return Counter(family: family)
    }

    /// A counter read when scraped, for totals kept elsewhere (the kernel's CPU time).
    public func counter(_ name: String, _ help: String, read: @escaping @Sendable () -> Double) {
        register(MetricFamily(name: name, help: help, type: "counter", labelNames: [], buckets: [], reader: read))
    }

    /// An info metric: one series with these labels and the value 1 (Prometheus' `*_info` convention).
    public func info(_ name: String, _ help: String, labels: [(String, String)]) {
        let family = MetricFamily(name: name, help: help, type: "gauge", labelNames: labels.map(\.0), buckets: [])
        family.series(labels.map(\.1)).add(1)
        register(family)
    }

    /// A gauge read when scraped.
    public func gauge(_ name: String, _ help: String, read: @escaping @Sendable () -> Double) {
        let family = MetricFamily(name: name, help: help, type: "gauge", labelNames: [], buckets: [], reader: read)
        register(family)
    }

    public func histogram(
        _ name: String, _ help: String, labels: [String] = [],
        buckets: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
    ) -> Histogram {
        let family = MetricFamily(name: name, help: help, type: "histogram", labelNames: labels, buckets: buckets)
        register(family)
        return Histogram(family: family)
    }

    private func register(_ family: MetricFamily) {
        families.withLock { $0.append(family) }
    }

    /// The exposition text.
    public func render() -> String {
        var out = ""
        for family in families.withLock({ $0 }) { family.render(into: &out) }
        return out
    }

    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"
}
