#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import Dispatch
import Synchronization
import HTTPKit
import SystemKit

/// Collects log lines and writes them in batches from a background thread (every few milliseconds, or at once
/// when 64 KiB are waiting), so that a busy server does not pay a system call per request. Lines stay whole.
final class LogSink: Sendable {
    private static let sinks = Lock<[Int32: LogSink]>([:])
    private final class Stripe: Sendable {
        let buffer = Lock<[UInt8]>([])
    }
    private let fd: Int32
    /// Striped by thread so that concurrent requests rarely wait on each other to log.
    private let stripes = (0..<16).map { _ in Stripe() }
    /// Held while writing; its value is the empty buffer the next stripe to be written gets in exchange.
    private let writing = Lock<[UInt8]>([])
    /// Set by the first line after a flush, which also wakes the flusher: an idle service's flusher sleeps.
    private let armed = Atomic<Bool>(false)
    private let wake = DispatchSemaphore(value: 0)

    static func shared(_ fd: Int32) -> LogSink {
        sinks.withLock { sinks in
            if let sink = sinks[fd] { return sink }
            let sink = LogSink(fd: fd)
            sinks[fd] = sink
            startThread(stackSize: 128 * 1024) { sink.flushPeriodically() }
            return sink
        }
    }

    private init(fd: Int32) { self.fd = fd }

    func append(_ line: [UInt8]) {
        line.withUnsafeBufferPointer { append($0) }
    }

    func append(_ line: UnsafeBufferPointer<UInt8>) {
        let full = stripes[threadStripe(of: stripes.count)].buffer.withLock { buffer -> Bool in
            buffer.append(contentsOf: line)
            return buffer.count >= 64 * 1024
        }
        if full { flush() }
        if !armed.load(ordering: .relaxed), !armed.exchange(true, ordering: .acquiringAndReleasing) { wake.signal() }
    }

    /// Writes each stripe's lines: the stripe's buffer is swapped for an empty one, so nothing is copied and the
    /// loops wait only for the swap.
    func flush() {
        writing.withLock { spare in
            for stripe in stripes {
                stripe.buffer.withLock { swap(&$0, &spare) }
                guard !spare.isEmpty else { continue }
                spare.withUnsafeBytes { raw in
                    var offset = 0
                    while offset < raw.count {
                        let n = write(fd, raw.baseAddress! + offset, raw.count - offset)
                        if n <= 0 {
                            if n < 0, errno == EINTR { continue }
                            return
                        }
                        offset += n
                    }
                }
                spare.removeAll(keepingCapacity: spare.capacity <= 256 * 1024)
            }
        }
    }

    /// Writes at most every 5 ms while lines come, so that a busy service makes one write per batch of lines.
    private func flushPeriodically() {
        while true {
            wake.wait()
            usleep(5_000)
            // Lines appended from here on arm the flusher again; the flush below takes any that come before it.
            armed.store(false, ordering: .releasing)
            flush()
        }
    }
}
