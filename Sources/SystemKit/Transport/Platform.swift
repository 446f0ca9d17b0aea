import CLinux
#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Musl)
@preconcurrency import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A stripe index in 0..<count for the calling thread, to spread per-thread work over several locks.
@inlinable public func threadStripe(of count: Int) -> Int {
    let id = UInt64(UInt(bitPattern: Int(bitPattern: UInt(pthread_self()))))
    return Int((id &* 0x9E37_79B9_7F4A_7C15) >> 58) % count
}

#if canImport(Glibc)
/// glibc's `malloc_trim`, which the Glibc module does not import: looked up once and called as the C function it is.
private let mallocTrim: (@convention(c) (Int) -> Int32)? = {
    guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "malloc_trim") else { return nil }
    return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
}()
#endif

/// Gives the heap memory malloc holds free back to the system (glibc keeps it otherwise); false where the C
/// library has no way to.
@discardableResult public func releaseFreeHeapMemory() -> Bool {
    #if canImport(Glibc)
    guard let mallocTrim else { return false }
    _ = mallocTrim(0)
    return true
    #else
    return false
    #endif
}

/// Monotonic time in nanoseconds.
@inlinable public func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// Nanoseconds from `earlier` to `now`, 0 if `earlier` is later (another thread may have stamped it since).
@inlinable public func nanos(since earlier: UInt64, now: UInt64 = monotonicNanos()) -> UInt64 {
    now > earlier ? now - earlier : 0
}

private final class ThreadBody {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}

private func threadTrampoline(_ context: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    Unmanaged<ThreadBody>.fromOpaque(context!).takeRetainedValue().run()
    return nil
}

/// Starts a detached OS thread. A small stack keeps thousands of connection threads cheap; pages are only
/// committed when touched.
@discardableResult
public func startThread(stackSize: Int = 512 * 1024, _ body: @escaping @Sendable () -> Void) -> Bool {
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    defer { pthread_attr_destroy(&attributes) }
    pthread_attr_setstacksize(&attributes, stackSize)
    pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
    let context = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
    var thread = pthread_t()
    let result = pthread_create(&thread, &attributes, threadTrampoline, context)
    if result != 0 {
        Unmanaged<ThreadBody>.fromOpaque(context).release()
        return false
    }
    return true
}

/// The CPUs this process may run on: its affinity mask, capped by a cgroup v2 CPU quota (a container's limit).
public func availableCPUs() -> Int {
    var cpus = max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    let count = Int(CLinux_affinityCPUCount())
    if count > 0 { cpus = min(cpus, count) }
    // "max 100000" (no limit) or "150000 100000": a quota of 1.5 CPUs counts as 2.
    let fields = readSmallFile("/sys/fs/cgroup/cpu.max").split(separator: " ")
    if fields.count == 2, let quota = Int(fields[0]), let period = Int(fields[1].filter { $0 != "\n" }), quota > 0,
        period > 0
    {
        cpus = min(cpus, max(1, (quota + period - 1) / period))
    }
    return cpus
}

/// A small file's text (cgroup and /proc files, which report no size), read to its end but at most 64 KiB; "" when
/// it cannot be read.
public func readSmallFile(_ path: String) -> String {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return "" }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while bytes.count < 65_536 {
        let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if count <= 0 { break }
        bytes += chunk[..<count]
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// The text of an errno value.
func errnoText(_ code: Int32) -> String {
    String(cString: strerror(code))
}
