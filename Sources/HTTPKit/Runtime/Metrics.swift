#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import Synchronization

/// A Prometheus registry: counters, gauges and histograms with labels, rendered in text format 0.0.4.
public final class MetricsRegistry: Sendable {
    private let families = Mutex<[MetricFamily]>([])

    public init() {}

    public func counter(_ name: String, _ help: String, labels: [String] = []) -> Counter {
        let family = MetricFamily(name: name, help: help, type: "counter", labelNames: labels, buckets: [])
        register(family)
        return Counter(family: family)
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

/// Event loops and workers update metrics on every request: series are kept in stripes picked
/// by thread, so concurrent updates rarely wait on each other, and summed when scraped.
final class MetricFamily: Sendable {
    struct Series {
        var value: Double = 0
        var bucketCounts: [UInt64] = []
        var count: UInt64 = 0

        mutating func merge(_ other: Series) {
            value += other.value
            count += other.count
            for i in other.bucketCounts.indices { bucketCounts[i] += other.bucketCounts[i] }
        }
    }

    static let stripeCount = 16
    let name: String
    let help: String
    let type: String
    let labelNames: [String]
    let buckets: [Double]
    let reader: (@Sendable () -> Double)?
    final class Stripe: Sendable {
        let series = Mutex<[[String]: Series]>([:])
    }
    let stripes: [Stripe]
    let order = Mutex<[[String]]>([])

    init(name: String, help: String, type: String, labelNames: [String], buckets: [Double], reader: (@Sendable () -> Double)? = nil) {
        self.name = name
        self.help = help
        self.type = type
        self.labelNames = labelNames
        self.buckets = buckets
        self.reader = reader
        stripes = (0..<Self.stripeCount).map { _ in Stripe() }
    }

    private var stripe: Int { threadStripe(of: Self.stripeCount) }

    func update(_ labels: [String], _ body: (inout Series) -> Void) {
        let bucketCount = buckets.count
        let isNew = stripes[stripe].series.withLock { all -> Bool in
            // One lookup, and the series is changed in place (no copy of its buckets).
            var fresh = false
            body(&all[labels, default: { fresh = true; return Series(bucketCounts: Array(repeating: 0, count: bucketCount)) }()])
            return fresh
        }
        if isNew { order.withLock { if !$0.contains(labels) { $0.append(labels) } } }
    }

    /// The series summed over every stripe.
    func snapshot() -> [[String]: Series] {
        var total: [[String]: Series] = [:]
        for stripe in stripes {
            for (labels, series) in stripe.series.withLock({ $0 }) {
                if var existing = total[labels] {
                    existing.merge(series)
                    total[labels] = existing
                } else {
                    total[labels] = series
                }
            }
        }
        return total
    }

    func labelText(_ values: [String], extra: (String, String)? = nil) -> String {
        var pairs = zip(labelNames, values).map { ($0, $1) }
        if let extra { pairs.append(extra) }
        guard !pairs.isEmpty else { return "" }
        return "{" + pairs.map { "\($0)=\"\(Self.escape($1))\"" }.joined(separator: ",") + "}"
    }

    static func escape(_ value: String) -> String {
        var out = ""
        for c in value {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out
    }

    static func number(_ value: Double) -> String {
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }

    func render(into out: inout String) {
        out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        if let reader {
            out += "\(name) \(Self.number(reader()))\n"
            return
        }
        let keys = order.withLock { $0 }
        let snapshot = self.snapshot()
        for key in keys {
            guard let entry = snapshot[key] else { continue }
            if type == "histogram" {
                var cumulative: UInt64 = 0
                for (index, bound) in buckets.enumerated() {
                    cumulative += entry.bucketCounts[index]
                    out += "\(name)_bucket\(labelText(key, extra: ("le", Self.number(bound)))) \(cumulative)\n"
                }
                out += "\(name)_bucket\(labelText(key, extra: ("le", "+Inf"))) \(entry.count)\n"
                out += "\(name)_sum\(labelText(key)) \(entry.value)\n"
                out += "\(name)_count\(labelText(key)) \(entry.count)\n"
            } else {
                out += "\(name)\(labelText(key)) \(Self.number(entry.value))\n"
            }
        }
    }
}

public struct Counter: Sendable {
    let family: MetricFamily
    public func increment(_ labels: [String] = [], by amount: Double = 1) {
        family.update(labels) { $0.value += amount }
    }
}

public struct Histogram: Sendable {
    let family: MetricFamily
    public func observe(_ value: Double, _ labels: [String] = []) {
        let index = family.buckets.firstIndex { value <= $0 }
        family.update(labels) { series in
            if let index { series.bucketCounts[index] += 1 }
            series.count += 1
            series.value += value
        }
    }
}
