import CLinux
#if canImport(Glibc)
@preconcurrency import Glibc
#endif

/// An epoll instance with an eventfd to wake it from other threads.
public struct Epoll {
    public static let readable = EPOLLIN.rawValue
    public static let writable = EPOLLOUT.rawValue
    public static let error = EPOLLERR.rawValue
    public static let hangUp = EPOLLHUP.rawValue
    public static let readHangUp = EPOLLRDHUP.rawValue
    public static let edgeTriggered = EPOLLET.rawValue
    /// Room for the events of one wait.
    public static let batch = 256

    public let fd: Int32
    public let wakeFD: Int32
    public static let wakeToken: UInt64 = UInt64.max

    public init() throws {
        fd = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard fd >= 0 else { throw SocketError.system("epoll_create1", errno) }
        wakeFD = eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC))
        guard wakeFD >= 0 else { throw SocketError.system("eventfd", errno) }
        add(wakeFD, token: Self.wakeToken, events: Self.readable)
    }

    @discardableResult
    @inlinable public func add(_ descriptor: Int32, token: UInt64, events: UInt32) -> Bool {
        var event = epoll_event()
        event.events = events
        event.data.u64 = token
        return epoll_ctl(fd, EPOLL_CTL_ADD, descriptor, &event) == 0
    }

    @inlinable public func remove(_ descriptor: Int32) {
        var event = epoll_event()
        _ = epoll_ctl(fd, EPOLL_CTL_DEL, descriptor, &event)
    }

    /// Waits for events into `events` (`batch` of them at most); calls `handle(token, events)` for each.
    @inlinable public func wait(
        into events: UnsafeMutableBufferPointer<epoll_event>, timeoutMilliseconds: Int32,
        _ handle: (UInt64, UInt32) -> Void
    ) {
        let count = epoll_wait(fd, events.baseAddress, Int32(events.count), timeoutMilliseconds)
        guard count > 0 else { return }
        for event in events[0..<Int(count)] {
            handle(event.data.u64, event.events)
        }
    }

    @inlinable public func wake() {
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
    }

    @inlinable public func drainWakeups() {
        var value: UInt64 = 0
        _ = read(wakeFD, &value, 8)
    }

    public func close() {
        _ = Glibc.close(wakeFD)
        _ = Glibc.close(fd)
    }
}
