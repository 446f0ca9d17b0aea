/// A point in monotonic time after which an operation gives up.
public struct Deadline: Sendable, Comparable {
    public let nanos: UInt64
    @inlinable public init(nanos: UInt64) { self.nanos = nanos }
    @inlinable public static func after(seconds: Double) -> Deadline {
        Deadline(nanos: monotonicNanos() &+ UInt64(max(0, seconds) * 1e9))
    }
    @inlinable public static var now: Deadline { Deadline(nanos: monotonicNanos()) }
    /// Milliseconds left, rounded up, at least 0; capped to fit `poll`.
    @inlinable public var remainingMilliseconds: Int32 {
        let now = monotonicNanos()
        guard nanos > now else { return 0 }
        return Int32(min((nanos - now + 999_999) / 1_000_000, UInt64(Int32.max)))
    }
    @inlinable public var hasPassed: Bool { monotonicNanos() >= nanos }
    @inlinable public static func < (a: Deadline, b: Deadline) -> Bool { a.nanos < b.nanos }
    @inlinable public static func earliest(_ a: Deadline, _ b: Deadline) -> Deadline { a < b ? a : b }
}
