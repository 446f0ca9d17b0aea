#if canImport(Glibc)
@preconcurrency import Glibc
#endif

// The Glibc module map leaves out <sys/epoll.h> and <sys/eventfd.h>; these are their Linux ABI.

@_silgen_name("epoll_create1") private func sys_epoll_create1(_ flags: Int32) -> Int32
@_silgen_name("epoll_ctl") private func sys_epoll_ctl(
    _ epfd: Int32, _ op: Int32, _ fd: Int32, _ event: UnsafeMutableRawPointer?
) -> Int32
@_silgen_name("epoll_wait") private func sys_epoll_wait(
    _ epfd: Int32, _ events: UnsafeMutableRawPointer, _ max: Int32, _ timeout: Int32
) -> Int32
@_silgen_name("eventfd") private func sys_eventfd(_ initial: UInt32, _ flags: Int32) -> Int32

/// An epoll instance with an eventfd to wake it from other threads.
struct Epoll {
    static let readable: UInt32 = 0x001
    static let writable: UInt32 = 0x004
    static let error: UInt32 = 0x008
    static let hangUp: UInt32 = 0x010
    static let readHangUp: UInt32 = 0x2000
    static let edgeTriggered: UInt32 = 1 << 31

    /// `struct epoll_event` is packed to 12 bytes on x86-64 and padded to 16 elsewhere.
    #if arch(x86_64)
    static let eventSize = 12
    static let dataOffset = 4
    #else
    static let eventSize = 16
    static let dataOffset = 8
    #endif

    let fd: Int32
    let wakeFD: Int32
    static let wakeToken: UInt64 = UInt64.max

    init() throws {
        fd = sys_epoll_create1(Int32(O_CLOEXEC))
        guard fd >= 0 else { throw SocketError.system("epoll_create1", errno) }
        wakeFD = sys_eventfd(0, Int32(O_NONBLOCK) | Int32(O_CLOEXEC))
        guard wakeFD >= 0 else { throw SocketError.system("eventfd", errno) }
        add(wakeFD, token: Self.wakeToken, events: Self.readable)
    }

    @discardableResult
    func add(_ descriptor: Int32, token: UInt64, events: UInt32) -> Bool {
        var raw = [UInt8](repeating: 0, count: 16)
        return raw.withUnsafeMutableBytes { buffer in
            buffer.storeBytes(of: events, toByteOffset: 0, as: UInt32.self)
            buffer.storeBytes(of: token, toByteOffset: Self.dataOffset, as: UInt64.self)
            return sys_epoll_ctl(fd, 1, descriptor, buffer.baseAddress) == 0
        }
    }

    func remove(_ descriptor: Int32) {
        var raw = [UInt8](repeating: 0, count: 16)
        raw.withUnsafeMutableBytes { _ = sys_epoll_ctl(fd, 2, descriptor, $0.baseAddress) }
    }

    /// Waits for events; calls `handle(token, events)` for each.
    func wait(
        into buffer: UnsafeMutableRawBufferPointer, timeoutMilliseconds: Int32, _ handle: (UInt64, UInt32) -> Void
    ) {
        let capacity = Int32(buffer.count / Self.eventSize)
        let count = sys_epoll_wait(fd, buffer.baseAddress!, capacity, timeoutMilliseconds)
        guard count > 0 else { return }
        for index in 0..<Int(count) {
            let base = index * Self.eventSize
            let events = buffer.loadUnaligned(fromByteOffset: base, as: UInt32.self)
            let token = buffer.loadUnaligned(fromByteOffset: base + Self.dataOffset, as: UInt64.self)
            handle(token, events)
        }
    }

    func wake() {
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
    }

    func drainWakeups() {
        var value: UInt64 = 0
        _ = read(wakeFD, &value, 8)
    }

    func close() {
        _ = Glibc.close(wakeFD)
        _ = Glibc.close(fd)
    }
}
