import Dispatch

/// Runs work on a shared pool of threads that may block, for doing two outbound calls at once.
public enum Background {
    private static let pool = WorkerPool(maxThreads: 4096, keepThreads: 16)

    /// Runs `first` on a pool thread and `second` on this one; returns both results.
    public static func concurrently<A: Sendable, B>(_ first: @escaping @Sendable () -> A, _ second: () -> B) -> (A, B) {
        let slot = ResultSlot<A>()
        pool.submit {
            slot.value = first()
            slot.done.signal()
        }
        let b = second()
        slot.done.wait()
        return (slot.value!, b)
    }
}

/// A value handed from one thread to another; the semaphore orders the write before the read.
private final class ResultSlot<Value>: @unchecked Sendable {
    var value: Value?
    let done = DispatchSemaphore(value: 0)
}
