#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import HTTPKit
import SystemKit

/// One label set's values. Callers on a hot path keep the series they update (see `RequestMetrics`), so an
/// update is one uncontended lock and no hashing of label strings.
final class MetricSeries: Sendable {
    struct Values {
        var value: Double = 0
        var bucketCounts: [UInt64]
        var count: UInt64 = 0
    }

    let labels: [String]
    let buckets: [Double]
    private let values: Lock<Values>

    init(labels: [String], buckets: [Double]) {
        self.labels = labels
        self.buckets = buckets
        values = Lock(Values(bucketCounts: Array(repeating: 0, count: buckets.count)))
    }

    func add(_ amount: Double) {
        values.withLock { $0.value += amount }
    }

    /// A histogram observation: the first bucket whose bound holds the value, the count and the sum.
    func observe(_ value: Double) {
        let index = buckets.firstIndex { value <= $0 }
        values.withLock { values in
            if let index { values.bucketCounts[index] += 1 }
            values.count += 1
            values.value += value
        }
    }

    var snapshot: Values { values.withLock { $0 } }
}

/// The series a hot-path caller has already looked up, by a small key of its own (a status code, a result): a
/// short list searched in order, where the family's table would hash the label strings.
struct KnownSeries<Key: Equatable> {
    private var entries: [(key: Key, series: MetricSeries)] = []

    mutating func series(_ key: Key, _ lookUp: () -> MetricSeries) -> MetricSeries {
        if let entry = entries.first(where: { $0.key == key }) { return entry.series }
        let series = lookUp()
        entries.append((key, series))
        return series
    }
}

final class MetricFamily: Sendable {
    let name: String
    let help: String
    let type: String
    let labelNames: [String]
    let buckets: [Double]
    let reader: (@Sendable () -> Double)?
    /// The series by labels, and in the order they first appeared (the order they are rendered in).
    private let series = Lock<(byLabels: [[String]: MetricSeries], ordered: [MetricSeries])>(([:], []))

    init(
        name: String, help: String, type: String, labelNames: [String], buckets: [Double],
        reader: (@Sendable () -> Double)? = nil
    ) {
        self.name = name
        self.help = help
        self.type = type
        self.labelNames = labelNames
        self.buckets = buckets
        self.reader = reader
    }

    /// The series of these label values, created at its first use.
    func series(_ labels: [String]) -> MetricSeries {
        series.withLock { all in
            if let existing = all.byLabels[labels] { return existing }
            let created = MetricSeries(labels: labels, buckets: buckets)
            all.byLabels[labels] = created
            all.ordered.append(created)
            return created
        }
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
        for series in series.withLock({ $0.ordered }) {
            let key = series.labels, entry = series.snapshot
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
