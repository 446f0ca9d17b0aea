import HTTPKit

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

    init(serviceVersion: String) throws {
        switch serviceVersion {
        case "v-faulty": self = .faulty
        case "v-delayed": self = .delayed
        case "v-unavailable": self = .unavailable
        case "v-unhealthy": self = .unhealthy
        case "v2", "v2-mysql", "v2-mysql-vm":
            throw ConfigError(
                variable: "SERVICE_VERSION",
                message: "\(serviceVersion) (database-backed ratings) is not provided by this image; use v1 or a fault mode (v-faulty, v-delayed, v-unavailable, v-unhealthy)"
            )
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
