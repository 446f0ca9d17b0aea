#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// A value guarded by a pthread mutex, with `Mutex`'s `withLock`. Synchronization's `Mutex` waits on a futex inside
/// the uninstrumented runtime, so ThreadSanitizer misses its hand-offs under contention and reports races that are
/// not there (docs/design.md has the reproduction); `pthread_mutex_lock` is one it intercepts.
public final class Lock<Value>: @unchecked Sendable {
    @usableFromInline let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    /// Guarded by the mutex, so the runtime's exclusivity check (a few hundred instructions per request) is left out.
    @exclusivity(unchecked) @usableFromInline var value: Value

    public init(_ value: Value) {
        self.value = value
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    @inlinable public func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
