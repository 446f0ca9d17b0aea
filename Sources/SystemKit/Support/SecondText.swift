/// Text that changes once a second (a date), made at most once a second per stripe of threads and copied out
/// otherwise: the `Date` field of every response and the time of every log line use one.
public final class SecondText: Sendable {
    @usableFromInline let stripes: [Lock<(seconds: Int, text: [UInt8])>]
    @usableFromInline let make: @Sendable (Int) -> [UInt8]

    /// `make` gives the text of a second (seconds since the epoch).
    public init(_ make: @escaping @Sendable (Int) -> [UInt8]) {
        stripes = (0..<16).map { _ in Lock((-1, [])) }
        self.make = make
    }

    /// Appends the text of `seconds`.
    @inlinable public func append(_ seconds: Int, to out: inout some ByteSink) {
        let stripe = stripes[threadStripe(of: stripes.count)]
        let hit = stripe.withLock { cached -> Bool in
            guard cached.seconds == seconds else { return false }
            cached.text.withUnsafeBufferPointer { out.append(bytes: $0) }
            return true
        }
        guard !hit else { return }
        let text = make(seconds)
        stripe.withLock { $0 = (seconds, text) }
        text.withUnsafeBufferPointer { out.append(bytes: $0) }
    }
}
