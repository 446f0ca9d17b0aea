#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import HTTPKit
import SystemKit

/// The text up to the second, `2026-12-08T04:51:07.`: every request's log line asks for the time.
private let rfc3339Seconds = SecondText { seconds in
    var time = time_t(seconds)
    var parts = tm()
    gmtime_r(&time, &parts)
    var text: [UInt8] = []
    text.append(decimal: Int(parts.tm_year) + 1900, width: 4)
    for (separator, value) in [
        ("-", parts.tm_mon + 1), ("-", parts.tm_mday), ("T", parts.tm_hour), (":", parts.tm_min), (":", parts.tm_sec),
    ] {
        text.append(UInt8(ascii: separator.unicodeScalars.first!))
        text.append(decimal: Int(value), width: 2)
    }
    text.append(UInt8(ascii: "."))
    return text
}

/// Wall-clock time as RFC 3339 UTC with milliseconds, written without Foundation.
func rfc3339Now() -> String {
    var out: [UInt8] = []
    appendRFC3339Now(to: &out)
    return String(decoding: out, as: UTF8.self)
}

/// Appends the time as `rfc3339Now` writes it (24 bytes); the text up to the second is kept between calls.
func appendRFC3339Now(to out: inout some ByteSink) {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    rfc3339Seconds.append(ts.tv_sec, to: &out)
    out.append(decimal: Int(ts.tv_nsec / 1_000_000), width: 3)
    out.append(UInt8(ascii: "Z"))
}
