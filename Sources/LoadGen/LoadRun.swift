#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import Dispatch
import HTTPKit
import Synchronization
import ServiceKit
import SystemKit

/// Which reviews version served a bookinfo page, from what the page shows.
enum ReviewsVersion: String, CaseIterable {
    case v1 = "no stars (v1)"
    case v2 = "black stars (v2)"
    case v3 = "red stars (v3)"
    case unavailable = "reviews unavailable"

    init?(page: String) {
        guard page.contains("<title>Simple Bookstore App</title>") else { return nil }
        if page.contains("Error fetching product reviews") {
            self = .unavailable
        } else if page.contains("text-red-500\" style") {
            self = .v3
        } else if page.contains("text-black-500\" style") {
            self = .v2
        } else if page.contains("Ratings service is currently unavailable") {
            // v2 or v3 whose ratings failed: no colour to tell them apart.
            self = .unavailable
        } else {
            self = .v1
        }
    }
}

/// Sends the requests from `concurrency` threads, paced to the target rate, and summarises what came back.
struct LoadRun {
    let options: LoadOptions

    struct Sample {
        var outcome: String
        var seconds: Double
        var version: ReviewsVersion?
    }

    struct Report {
        var text: String
        var succeeded: Int
    }

    func run() -> Report {
        let url: HTTPClient.URL
        do { url = try HTTPClient.URL(options.url) } catch { return Report(text: "loadgen: \(error)\n", succeeded: 0) }
        let client = HTTPClient()
        let next = Atomic<Int>(0)
        let samples = Lock<[Sample]>([])
        let start = Deadline.now
        let headers = HTTPHeaders(options.headers)
        let group = DispatchGroup()
        let options = self.options
        for _ in 0..<min(options.concurrency, options.requests) {
            group.enter()
            startThread {
                defer { group.leave() }
                var local: [Sample] = []
                while true {
                    let index = next.add(1, ordering: .relaxed).oldValue
                    if index >= options.requests { break }
                    if let rate = options.rate {
                        let due = start.nanos + UInt64(Double(index) / rate * 1e9)
                        let now = Deadline.now.nanos
                        if due > now { usleep(UInt32(min((due - now) / 1000, 10_000_000))) }
                    }
                    let began = Deadline.now.nanos
                    var sample = Sample(outcome: "", seconds: 0)
                    do {
                        let response = try client.request(
                            options.method, url, headers: headers, body: [], deadline: .after(seconds: options.timeout))
                        sample.outcome = String(response.status.code)
                        if response.status.code == 200 { sample.version = ReviewsVersion(page: response.bodyText) }
                    } catch let error as HTTPClientError {
                        sample.outcome = error.kind
                    } catch {
                        sample.outcome = "error"
                    }
                    sample.seconds = Double(Deadline.now.nanos - began) / 1e9
                    local.append(sample)
                }
                samples.withLock { $0.append(contentsOf: local) }
            }
        }
        group.wait()
        let elapsed = Double(Deadline.now.nanos - start.nanos) / 1e9
        return Self.summarise(samples.withLock { $0 }, elapsed: elapsed, options: options)
    }

    static func summarise(_ samples: [Sample], elapsed: Double, options: LoadOptions) -> Report {
        var text =
            "Target: \(options.url)\nRequests: \(samples.count) in \(format(elapsed))s, "
            + "concurrency \(options.concurrency)"
        text += options.rate.map { ", target \(format($0)) req/s" } ?? ""
        text += ", achieved \(format(Double(samples.count) / max(elapsed, 1e-9))) req/s\n"
        var counts: [String: Int] = [:]
        for sample in samples { counts[sample.outcome, default: 0] += 1 }
        text += "Results:\n"
        for (outcome, count) in counts.sorted(by: { $0.key < $1.key }) {
            text += "  \(outcome): \(count) (\(percent(count, samples.count)))\n"
        }
        let latencies = samples.map(\.seconds).sorted()
        if !latencies.isEmpty {
            func at(_ p: Double) -> String {
                format(latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] * 1000)
            }
            text +=
                "Latency ms: p50 \(at(0.5))  p90 \(at(0.9))  p99 \(at(0.99))  max \(format(latencies.last! * 1000))\n"
        }
        let versions = samples.compactMap(\.version)
        if !versions.isEmpty {
            text += "Reviews versions (of \(versions.count) pages):\n"
            for version in ReviewsVersion.allCases {
                let count = versions.filter { $0 == version }.count
                if count > 0 { text += "  \(version.rawValue): \(count) (\(percent(count, versions.count)))\n" }
            }
        }
        let succeeded = samples.filter { $0.outcome.hasPrefix("2") }.count
        return Report(text: text, succeeded: succeeded)
    }

    static func percent(_ part: Int, _ whole: Int) -> String {
        format(Double(part) * 100 / Double(max(whole, 1))) + "%"
    }

    static func format(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }
}
