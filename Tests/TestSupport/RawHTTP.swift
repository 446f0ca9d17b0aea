import Foundation
import HTTPKit
import SystemKit

/// A raw TCP conversation: send exact bytes, read exact bytes.
public final class RawConnection {
    public let socket: Socket

    public init(port: Int, host: String = "127.0.0.1") throws {
        socket = try RawConnection.connect(host: host, port: port)
    }

    static func connect(host: String, port: Int) throws -> Socket {
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        inet_pton(AF_INET, host, &address.sin_addr)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            Glibc.close(fd)
            throw SocketError.system("connect", errno)
        }
        return Socket(fd: fd)
    }

    public func send(_ text: String) throws { try socket.send(Array(text.utf8)) }
    public func send(_ bytes: [UInt8]) throws { try socket.send(bytes) }

    /// Reads until the peer closes or `timeout` passes; returns what arrived.
    public func readToEnd(timeout: Double = 5) -> String {
        String(decoding: readBytes(until: { _ in false }, timeout: timeout), as: UTF8.self)
    }

    /// Reads until `count` responses have fully arrived (framed by Content-Length), the peer closes, or timeout.
    public func readResponses(_ count: Int, timeout: Double = 5) -> [ClientResponse] {
        var parser = ResponseParser()
        var responses: [ClientResponse] = []
        let deadline = Deadline.after(seconds: timeout)
        var buffer = [UInt8](repeating: 0, count: 65536)
        while responses.count < count {
            while case .response(let r) = parser.next() { responses.append(r) }
            if responses.count >= count { break }
            let n = (try? buffer.withUnsafeMutableBytes { try socket.receive(into: $0, until: deadline) }) ?? 0
            if n <= 0 { break }
            parser.append(buffer[0..<n])
        }
        return responses
    }

    public func readBytes(until done: ([UInt8]) -> Bool, timeout: Double) -> [UInt8] {
        let deadline = Deadline.after(seconds: timeout)
        var all: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !done(all) {
            let n = (try? buffer.withUnsafeMutableBytes { try socket.receive(into: $0, until: deadline) }) ?? 0
            if n <= 0 { break }
            all.append(contentsOf: buffer[0..<n])
        }
        return all
    }

    /// True when the peer has closed the connection (a read returns end of file) within `timeout`.
    public func isClosedByPeer(timeout: Double = 2) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = Deadline.after(seconds: timeout)
        while true {
            guard let n = try? buffer.withUnsafeMutableBytes({ try socket.receive(into: $0, until: deadline) }) else {
                return false
            }
            if n == 0 { return true }
        }
    }

    public func close() { socket.close() }
}

/// Descriptors of this process that are TCP sockets on `port` (listening, accepted or connected to it): the
/// descriptors a server on that port is responsible for, which other tests running at the same time do not change.
public func openSocketCount(port: Int) -> Int {
    // Socket inodes on that port, local or remote, from the kernel's tables.
    var inodes: Set<String> = []
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        // Read to the end: String(contentsOfFile:) stops at the first read of a /proc file, and these tables
        // outgrow it on a machine with many sockets (a local mesh running beside the tests, say).
        guard let handle = FileHandle(forReadingAtPath: table) else { continue }
        let text = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
        try? handle.close()
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ")
            guard fields.count > 9 else { continue }
            let ports = [fields[1], fields[2]].compactMap {
                $0.split(separator: ":").last.flatMap { Int($0, radix: 16) }
            }
            if ports.contains(port) { inodes.insert(String(fields[9])) }
        }
    }
    let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
    return descriptors.filter { fd in
        guard let link = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)"),
            link.hasPrefix("socket:[")
        else { return false }
        return inodes.contains(String(link.dropFirst(8).dropLast()))
    }.count
}

/// Seconds from `start` until now.
public func secondsSince(_ start: Deadline) -> Double {
    Double(Deadline.now.nanos - start.nanos) / 1e9
}

/// Polls `condition` until it holds or `timeout` passes.
public func eventually(timeout: Double = 5, _ condition: () -> Bool) -> Bool {
    let deadline = Deadline.after(seconds: timeout)
    while !deadline.hasPassed {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}

/// Runs `body(thread, iteration)` on `threads` threads, `iterations` times each; returns how many calls
/// returned false.
public func countFailuresConcurrently(threads: Int, iterations: Int, _ body: @escaping @Sendable (Int, Int) -> Bool)
    -> Int
{
    let failures = Lock(0)
    let group = DispatchGroup()
    for thread in 0..<threads {
        group.enter()
        Thread.detachNewThread {
            defer { group.leave() }
            for iteration in 0..<iterations where !body(thread, iteration) { failures.withLock { $0 += 1 } }
        }
    }
    group.wait()
    return failures.withLock { $0 }
}

/// A GET made on a thread of its own; `body` is empty until its answer (or "failed") is in.
public final class BackgroundGet: Sendable {
    private let result = Lock<String>("")

    public init(_ url: String, timeout: Double = 8) {
        Thread.detachNewThread { [self] in
            let body = (try? HTTPClient().get(url, timeout: timeout).bodyText) ?? "failed"
            result.withLock { $0 = body }
        }
    }

    public var body: String { result.withLock { $0 } }
}

/// `text` without its `Date` field when that field is a valid IMF-fixdate (RFC 9110 §5.6.7); with it otherwise, so
/// an exact comparison of the rest fails on a missing or malformed date.
public func droppingDate(_ text: String) -> String {
    let bytes = Array(text.utf8), field = Array("\r\nDate: ".utf8)
    guard
        let start = (0...max(0, bytes.count - field.count)).first(where: {
            bytes[$0..<$0 + field.count].elementsEqual(field)
        }),
        bytes.count >= field.count
    else { return text }
    let valueStart = start + field.count
    let valueEnd = bytes[valueStart...].firstIndex(of: UInt8(ascii: "\r")) ?? bytes.count
    guard isIMFFixdate(String(decoding: bytes[valueStart..<valueEnd], as: UTF8.self)) else { return text }
    return String(decoding: bytes[..<start] + bytes[valueEnd...], as: UTF8.self)
}

/// `Sun, 06 Nov 1994 08:49:37 GMT`: day name, two-digit day, month name, four-digit year, time, GMT.
public func isIMFFixdate(_ value: String) -> Bool {
    let parts = value.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
    let days = ["Sun,", "Mon,", "Tue,", "Wed,", "Thu,", "Fri,", "Sat,"]
    let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    guard parts.count == 6, days.contains(parts[0]), parts[1].count == 2,
        Int(parts[1]).map({ (1...31).contains($0) }) == true,
        months.contains(parts[2]), parts[3].count == 4, Int(parts[3]) != nil, parts[5] == "GMT"
    else { return false }
    let clock = parts[4].split(separator: ":", omittingEmptySubsequences: false)
    return clock.count == 3 && clock.allSatisfy { $0.count == 2 && Int($0) != nil }
}
