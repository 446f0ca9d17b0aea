import Dispatch
import SystemKit
import Synchronization

/// A few logged-in connections shared by threads: at most `size` open at once, idle ones kept for reuse and
/// checked before it, so a request does not pay a handshake and a server restart costs no failed request.
public final class MySQLPool: Sendable {
    public let configuration: MySQLConfiguration
    public let size: Int
    private let idle = Lock<[MySQLConnection]>([])
    private let slots: DispatchSemaphore
    private let opened = Atomic<Int>(0)

    public init(_ configuration: MySQLConfiguration, size: Int) {
        precondition(size > 0)
        self.configuration = configuration
        self.size = size
        slots = DispatchSemaphore(value: size)
    }

    /// Connections opened so far (a reused one is not counted again).
    public var connectionsOpened: Int { opened.load(ordering: .relaxed) }
    public var idleCount: Int { idle.withLock { $0.count } }

    /// Runs one statement. A reused connection that turns out dead is replaced and the statement sent once more
    /// on a new one, so use this for reads and other statements safe to repeat.
    public func query(_ sql: String, timeout: Double) throws(MySQLError) -> ResultSet {
        try withConnection(timeout: timeout) { connection, deadline throws(MySQLError) in
            try connection.query(sql, deadline: deadline)
        }
    }

    /// A round trip (COM_PING) on a pooled connection: whether the server answers.
    public func ping(timeout: Double) throws(MySQLError) {
        try withConnection(timeout: timeout) { connection, deadline throws(MySQLError) in
            try connection.ping(deadline: deadline)
        }
    }

    private func withConnection<T>(
        timeout: Double, _ body: (MySQLConnection, Deadline) throws(MySQLError) -> T
    ) throws(MySQLError) -> T {
        let deadline = Deadline.after(seconds: timeout)
        guard slots.wait(timeout: .now() + .milliseconds(Int(deadline.remainingMilliseconds))) == .success else {
            throw .timedOut("waiting for one of the \(size) database connections")
        }
        defer { slots.signal() }
        var reused = takeIdle()
        while true {
            let connection: MySQLConnection
            if let reused {
                connection = reused
            } else {
                connection = try MySQLConnection(configuration, deadline: deadline)
                opened.add(1, ordering: .relaxed)
            }
            do {
                let result = try body(connection, deadline)
                idle.withLock { $0.append(connection) }
                return result
            } catch {
                if error.breaksConnection {
                    connection.close()
                    // A kept connection the server dropped since: try once more on a new one.
                    if reused != nil, !deadline.hasPassed, case .connection = error {
                        reused = nil
                        continue
                    }
                } else {
                    idle.withLock { $0.append(connection) }
                }
                throw error
            }
        }
    }

    /// The newest idle connection that is still open; stale ones are closed.
    private func takeIdle() -> MySQLConnection? {
        while let connection = idle.withLock({ $0.popLast() }) {
            if !connection.isStale { return connection }
            connection.close()
        }
        return nil
    }
}
