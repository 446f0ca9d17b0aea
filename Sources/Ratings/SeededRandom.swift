#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import SystemKit

/// A random source shared between threads. Given a seed it repeats its sequence, so fault injection can be
/// tested exactly (SplitMix64).
public final class SeededRandom: Sendable {
    private let state: Lock<UInt64>

    public init(seed: UInt64? = nil) {
        var initial = seed ?? 0
        if seed == nil {
            var ts = timespec()
            clock_gettime(CLOCK_REALTIME, &ts)
            initial = UInt64(ts.tv_nsec) ^ (UInt64(ts.tv_sec) << 20) ^ UInt64(getpid())
        }
        state = Lock(initial)
    }

    /// A number in [0, 1).
    public func nextUnit() -> Double {
        let bits = state.withLock { state -> UInt64 in
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        return Double(bits >> 11) / Double(1 << 53)
    }

    /// True with probability `p`.
    public func chance(_ p: Double) -> Bool { p >= 1 || (p > 0 && nextUnit() < p) }
}
