#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import HTTPKit
import SystemKit

public struct Histogram: Sendable {
    let family: MetricFamily
    public func observe(_ value: Double, _ labels: [String] = []) {
        family.series(labels).observe(value)
    }
}
