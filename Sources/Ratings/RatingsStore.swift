import HTTPKit
import ServiceKit
import SystemKit

/// Ratings posted per product id, kept in memory with a cap on ids and on each entry's size.
final class RatingsStore: Sendable {
    enum StoreError: Error, Equatable {
        case full(Int)
    }

    private let entries = Lock<[Int: JSON]>([:])
    let maxEntries: Int

    init(maxEntries: Int) { self.maxEntries = maxEntries }

    func get(_ id: Int) -> JSON? { entries.withLock { $0[id] } }

    /// Stores the ratings for an id; a new id beyond the cap is refused, an existing one is replaced.
    func put(_ id: Int, _ ratings: JSON) throws {
        try entries.withLock { entries in
            if entries[id] == nil, entries.count >= maxEntries { throw StoreError.full(maxEntries) }
            entries[id] = ratings
        }
    }

    var count: Int { entries.withLock { $0.count } }
}
