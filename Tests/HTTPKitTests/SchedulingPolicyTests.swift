import Testing
import TestSupport

@testable import HTTPKit
@testable import SystemKit
@testable import ServiceKit

/// Runs `body` on a thread of its own (the policy is per thread) and waits for its result.
private func onFreshThread<T: Sendable>(_ body: @escaping @Sendable () -> T) -> T? {
    let result = Lock<T?>(nil)
    #expect(
        startThread {
            let value = body(); result.withLock { $0 = value }
        })
    _ = eventually { result.withLock { $0 != nil } }
    return result.withLock { $0 }
}

@Suite struct SchedulingPolicyTests {
    @Test func batchIsSetAndInheritedByThreadsStartedAfterwards() {
        let seen = onFreshThread { () -> [SchedulingPolicy?] in
            let before = SchedulingPolicy.current
            let refused = SchedulingPolicy.batch.apply()
            let after = SchedulingPolicy.current
            let child = onFreshThread { SchedulingPolicy.current } ?? nil
            let back = SchedulingPolicy.normal.apply() == nil ? SchedulingPolicy.current : nil
            return [before, refused == nil ? after : nil, child, back]
        }
        #expect(seen == [.normal, .batch, .batch, .normal])
    }
}
