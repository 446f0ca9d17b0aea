import Synchronization

/// Tracks open connections and whether each is busy with a request, so a drain can close the idle ones at once
/// and wait for the busy ones.
final class ConnectionRegistry: Sendable {
    private struct Entry {
        let socket: Socket
        var busy: Bool
    }

    private struct State {
        var entries: [Int: Entry] = [:]
        var nextID = 0
        var draining = false
        var inFlight = 0
    }

    private let state = Mutex(State())

    var count: Int { state.withLock { $0.entries.count } }
    var inFlight: Int { state.withLock { $0.inFlight } }
    var isDraining: Bool { state.withLock { $0.draining } }

    /// Registers a connection unless the limit is reached or the server is draining.
    func register(_ socket: Socket, limit: Int) -> Int? {
        state.withLock { state in
            guard !state.draining, state.entries.count < limit else { return nil }
            let id = state.nextID
            state.nextID += 1
            state.entries[id] = Entry(socket: socket, busy: false)
            return id
        }
    }

    func remove(_ id: Int) {
        state.withLock { state in
            if let entry = state.entries.removeValue(forKey: id), entry.busy { state.inFlight -= 1 }
        }
    }

    /// Marks the connection busy; false when the server is draining and the request should not start.
    func setBusy(_ id: Int, _ busy: Bool) {
        state.withLock { state in
            guard var entry = state.entries[id], entry.busy != busy else { return }
            entry.busy = busy
            state.entries[id] = entry
            state.inFlight += busy ? 1 : -1
        }
    }

    /// Starts draining: idle connections are woken to close; returns how many were busy.
    func beginDrain() -> Int {
        state.withLock { state in
            state.draining = true
            for entry in state.entries.values where !entry.busy { entry.socket.shutdown() }
            return state.inFlight
        }
    }

    func closeAll() {
        state.withLock { state in
            for entry in state.entries.values { entry.socket.shutdown() }
        }
    }
}
