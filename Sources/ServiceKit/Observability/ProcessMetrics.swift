#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import HTTPKit
import SystemKit

/// The process metrics every Prometheus client library exports, read from /proc when scraped.
enum ProcessMetrics {
    static func register(in registry: MetricsRegistry) {
        registry.counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds") {
            guard let stat = Stat.read() else { return 0 }
            return (stat.userTicks + stat.systemTicks) / ticksPerSecond
        }
        registry.gauge("process_resident_memory_bytes", "Resident memory size in bytes") {
            Double(Stat.read()?.residentPages ?? 0) * Double(sysconf(Int32(_SC_PAGESIZE)))
        }
        registry.gauge("process_virtual_memory_bytes", "Virtual memory size in bytes") {
            Stat.read()?.virtualBytes ?? 0
        }
        registry.gauge("process_open_fds", "Number of open file descriptors") { Double(openDescriptors()) }
        registry.gauge("process_max_fds", "Maximum number of open file descriptors") {
            var limit = rlimit()
            return getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 ? Double(limit.rlim_cur) : 0
        }
        let started = startTime()
        registry.gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds") {
            started
        }
    }

    static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    /// The fields of /proc/self/stat that the metrics use (proc(5)).
    struct Stat {
        var userTicks: Double
        var systemTicks: Double
        var startTicks: Double
        var virtualBytes: Double
        var residentPages: Double

        static func read() -> Stat? {
            parse(readSmallFile("/proc/self/stat"))
        }

        /// The fields after the command name, which is in parentheses and may hold spaces.
        static func parse(_ text: String) -> Stat? {
            guard let close = text.lastIndex(of: ")") else { return nil }
            let fields = text[text.index(after: close)...].split(separator: " ")
            // fields[0] is field 3 of proc(5), the state.
            func field(_ number: Int) -> Double? { number - 3 < fields.count ? Double(fields[number - 3]) : nil }
            guard let user = field(14), let system = field(15), let start = field(22), let virtual = field(23),
                let resident = field(24)
            else { return nil }
            return Stat(
                userTicks: user, systemTicks: system, startTicks: start, virtualBytes: virtual, residentPages: resident)
        }
    }

    /// The boot time from /proc/stat plus the process's start in ticks after boot.
    static func startTime() -> Double {
        guard let stat = Stat.read(),
            let line = readSmallFile("/proc/stat").split(separator: "\n").first(where: { $0.hasPrefix("btime ") }),
            let boot = Double(line.dropFirst(6).trimmingPrefix(" "))
        else { return 0 }
        return boot + stat.startTicks / ticksPerSecond
    }

    static func openDescriptors() -> Int {
        guard let directory = opendir("/proc/self/fd") else { return 0 }
        defer { closedir(directory) }
        var count = 0
        while let entry = readdir(directory) {
            if entry.pointee.d_name.0 != UInt8(ascii: ".") { count += 1 }
        }
        return count - 1  // the descriptor opendir holds
    }
}
