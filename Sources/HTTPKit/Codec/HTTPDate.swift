#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import Synchronization
import SystemKit

/// The `Date` field every response carries (RFC 9110 §6.6.1), as IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`.
/// The text is made at most once a second per stripe and copied into each response.
enum HTTPDate {
    private final class Stripe: Sendable {
        let cached = Lock<(seconds: Int, field: [UInt8])>((-1, []))
    }
    private static let stripes = (0..<16).map { _ in Stripe() }
    /// How often a field was formatted, for the test that it is not per response.
    static let formatted = Atomic<Int>(0)

    /// Appends `Date: <IMF-fixdate>\r\n` for the current second.
    static func appendField(to out: inout some ByteSink) {
        let now = time(nil)
        let stripe = stripes[threadStripe(of: stripes.count)]
        let hit = stripe.cached.withLock { cached -> Bool in
            guard cached.seconds == now else { return false }
            cached.field.withUnsafeBufferPointer { out.append(bytes: $0) }
            return true
        }
        guard !hit else { return }
        let field = Array("Date: \(format(now))\r\n".utf8)
        formatted.add(1, ordering: .relaxed)
        stripe.cached.withLock { $0 = (now, field) }
        field.withUnsafeBufferPointer { out.append(bytes: $0) }
    }

    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// IMF-fixdate of a time in seconds since the epoch.
    static func format(_ seconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return
            "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }
}
