import Synchronization

/// One open connection: its socket and whether a request is being handled on it.
final class ConnectionEntry: Sendable {
    let socket: Socket
    let busy = Atomic<Bool>(false)
    init(socket: Socket) { self.socket = socket }
}

/// Tracks open connections so a drain can close the idle ones at once and wait for the busy ones. The per-request
/// path touches only atomics; the lock is taken when a connection opens or closes.
final class ConnectionRegistry: Sendable {
    private struct State {
        var entries: [ObjectIdentifier: ConnectionEntry] = [:]
    }

    private let state = Mutex(State())
    private let open = Atomic<Int>(0)
    private let busyCount = Atomic<Int>(0)
    private let draining = Atomic<Bool>(false)

    var count: Int { open.load(ordering: .relaxed) }
    var inFlight: Int { busyCount.load(ordering: .relaxed) }
    var isDraining: Bool { draining.load(ordering: .relaxed) }

    /// Registers a connection unless the limit is reached or the server is draining.
    func register(_ socket: Socket, limit: Int) -> ConnectionEntry? {
        guard !isDraining, open.load(ordering: .relaxed) < limit else { return nil }
        let entry = ConnectionEntry(socket: socket)
        state.withLock { $0.entries[ObjectIdentifier(entry)] = entry }
        open.add(1, ordering: .relaxed)
        return entry
    }

    func remove(_ entry: ConnectionEntry) {
        setBusy(entry, false)
        state.withLock { _ = $0.entries.removeValue(forKey: ObjectIdentifier(entry)) }
        open.subtract(1, ordering: .relaxed)
    }

    func setBusy(_ entry: ConnectionEntry, _ busy: Bool) {
        let (exchanged, _) = entry.busy.compareExchange(expected: !busy, desired: busy, ordering: .acquiringAndReleasing)
        if exchanged { busyCount.add(busy ? 1 : -1, ordering: .relaxed) }
    }

    /// Starts draining: idle connections stop reading (their thread sees end of input and closes).
    func beginDrain() {
        draining.store(true, ordering: .sequentiallyConsistent)
        let entries = state.withLock { Array($0.entries.values) }
        for entry in entries where !entry.busy.load(ordering: .acquiring) { entry.socket.shutdownRead() }
    }

    func closeAll() {
        let entries = state.withLock { Array($0.entries.values) }
        for entry in entries { entry.socket.shutdown() }
    }
}
