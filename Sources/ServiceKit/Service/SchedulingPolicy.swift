#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import HTTPKit
import SystemKit

/// The Linux scheduling policy of the calling thread and the threads it starts afterwards (they inherit it).
///
/// `batch` (SCHED_BATCH) keeps a thread's share of the CPU but never lets its wake-up preempt the task running on the
/// core: it waits for that task to sleep or for the next tick. A proxy-like service that shares its cores with its
/// upstream then wakes less often and finds more ready connections each time. Any process may choose it; no
/// capability is needed.
public enum SchedulingPolicy: String, Sendable, CaseIterable {
    case normal
    case batch

    // Glibc's module map leaves SCHED_BATCH out (it needs _GNU_SOURCE); these are the kernel's numbers.
    private var kernelValue: Int32 {
        switch self {
        case .normal: 0
        case .batch: 3
        }
    }

    /// Sets this policy on the calling thread; the error text when the kernel refuses (a seccomp profile can).
    @discardableResult
    public func apply() -> String? {
        var parameters = sched_param()
        parameters.sched_priority = 0
        guard sched_setscheduler(0, kernelValue, &parameters) == 0 else { return String(cString: strerror(errno)) }
        return nil
    }

    /// The calling thread's policy, or nil for one this type does not name (a real-time or idle policy).
    public static var current: SchedulingPolicy? {
        let value = sched_getscheduler(0)
        return allCases.first { $0.kernelValue == value }
    }
}
