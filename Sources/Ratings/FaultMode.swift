import HTTPKit
import ServiceKit
import SystemKit

/// The `SERVICE_VERSION` behaviours of bookinfo's ratings images.
enum FaultMode: Equatable {
    case normal
    /// 503 with the fault probability.
    case faulty
    /// The reply waits `delay` with the fault probability.
    case delayed
    /// Unavailable (503) every other period, starting available.
    case unavailable
    /// /health 500 and /ratings 503 every other period, starting healthy.
    case unhealthy

    /// The `SERVICE_VERSION` values this image serves (v2 reads the ratings from MySQL, without a fault).
    static let versions = ["v1", "v2", "v-faulty", "v-delayed", "v-unavailable", "v-unhealthy"]

    /// For one of `versions`, which the settings table has checked.
    init(serviceVersion: String) {
        switch serviceVersion {
        case "v-faulty": self = .faulty
        case "v-delayed": self = .delayed
        case "v-unavailable": self = .unavailable
        case "v-unhealthy": self = .unhealthy
        default: self = .normal
        }
    }
}

/// Which phase of a periodic fault the service is in, from its start time.
struct FaultClock {
    let start: Deadline
    let period: Double

    /// True during the odd periods (the second, the fourth...).
    var inFaultPhase: Bool {
        guard period > 0 else { return false }
        let elapsed = Double(Deadline.now.nanos - start.nanos) / 1e9
        return Int(elapsed / period) % 2 == 1
    }
}
