#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Testing

@testable import HTTPKit

@Suite struct SchedulingPolicyTests {
    /// Runs `body` on a thread of its own (the policy is per thread) and waits for its result.
    func onFreshThread<T: Sendable>(_ body: @escaping @Sendable () -> T) -> T? {
        let result = Mutex<T?>(nil)
        let done = Mutex(false)
        #expect(startThread { let value = body(); result.withLock { $0 = value }; done.withLock { $0 = true } })
        let start = ContinuousClock.now
        while !done.withLock({ $0 }), ContinuousClock.now - start < .seconds(5) { usleep(1_000) }
        return result.withLock { $0 }
    }

    @Test func batchIsSetAndInheritedByThreadsStartedAfterwards() {
        let seen = onFreshThread { () -> [SchedulingPolicy?] in
            let before = SchedulingPolicy.current
            let refused = SchedulingPolicy.batch.apply()
            let after = SchedulingPolicy.current
            let child = Mutex<SchedulingPolicy??>(nil)
            startThread { child.withLock { $0 = .some(SchedulingPolicy.current) } }
            let start = ContinuousClock.now
            while child.withLock({ $0 }) == nil, ContinuousClock.now - start < .seconds(5) { usleep(1_000) }
            let back = SchedulingPolicy.normal.apply() == nil ? SchedulingPolicy.current : nil
            return [before, refused == nil ? after : nil, child.withLock { $0 } ?? nil, back]
        }
        #expect(seen == [.normal, .batch, .batch, .normal])
    }
}
