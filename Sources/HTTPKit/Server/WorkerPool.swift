#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import SystemKit

/// Threads for handlers that may block (upstream calls, sleeps). It grows while jobs wait and no thread is idle,
/// up to `maxThreads`; a thread idle for `idleExit` seconds ends, down to `keepThreads`.
final class WorkerPool: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var jobs: [() -> Void] = []
    private var head = 0
    private var idle = 0
    private var threads = 0
    let maxThreads: Int
    let keepThreads: Int
    let idleExit: Int

    init(maxThreads: Int, keepThreads: Int = 8, idleExit: Int = 30) {
        self.maxThreads = max(1, maxThreads)
        self.keepThreads = keepThreads
        self.idleExit = idleExit
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    var threadCount: Int {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return threads
    }

    func submit(_ job: @escaping () -> Void) {
        pthread_mutex_lock(mutex)
        jobs.append(job)
        let waiting = jobs.count - head
        var spawn = false
        if waiting > idle, threads < maxThreads {
            threads += 1
            spawn = true
        }
        pthread_cond_signal(condition)
        pthread_mutex_unlock(mutex)
        if spawn, !startThread(stackSize: 512 * 1024, { [self] in work() }) {
            pthread_mutex_lock(mutex)
            threads -= 1
            pthread_mutex_unlock(mutex)
        }
    }

    private func work() {
        pthread_mutex_lock(mutex)
        while true {
            while head == jobs.count {
                idle += 1
                var until = timespec()
                clock_gettime(CLOCK_REALTIME, &until)
                until.tv_sec += idleExit
                let result = pthread_cond_timedwait(condition, mutex, &until)
                idle -= 1
                if result == ETIMEDOUT, head == jobs.count, threads > keepThreads {
                    threads -= 1
                    pthread_mutex_unlock(mutex)
                    return
                }
            }
            let job = jobs[head]
            head += 1
            if head > 1024, head * 2 > jobs.count {
                jobs.removeFirst(head)
                head = 0
            } else if head == jobs.count {
                jobs.removeAll(keepingCapacity: true)
                head = 0
            }
            pthread_mutex_unlock(mutex)
            job()
            pthread_mutex_lock(mutex)
        }
    }
}
