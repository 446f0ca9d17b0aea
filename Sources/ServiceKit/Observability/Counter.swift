#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import HTTPKit
import SystemKit

public struct Counter: Sendable {
    let family: MetricFamily
    public func increment(_ labels: [String] = [], by amount: Double = 1) {
        family.series(labels).add(amount)
    }
}
