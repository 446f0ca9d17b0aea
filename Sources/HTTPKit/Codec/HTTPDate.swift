#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import Synchronization
import SystemKit

/// The `Date` field every response carries (RFC 9110 §6.6.1), as IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`.
/// The text is made at most once a second per stripe and copied into each response.
enum HTTPDate {
    /// How often a field was formatted, for the test that it is not per response.
    static let formatted = Atomic<Int>(0)
    private static let field = SecondText { seconds in
        formatted.add(1, ordering: .relaxed)
        return Array("Date: \(format(seconds))\r\n".utf8)
    }

    /// Appends `Date: <IMF-fixdate>\r\n` for the current second.
    static func appendField(to out: inout some ByteSink) {
        field.append(time(nil), to: &out)
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
