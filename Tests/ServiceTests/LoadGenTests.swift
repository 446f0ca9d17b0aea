import HTTPKit
@testable import LoadGen
import Testing
import SystemKit
import ServiceKit

@Suite struct LoadGenTests {
    @Test func optionsInTheStyleOfLoadtest() throws {
        let options = try LoadOptions.parse([
            "-n", "400", "-c", "10", "--rps", "20", "-H", "Cookie: session=x", "localhost:9080/productpage",
        ])
        #expect(options.requests == 400)
        #expect(options.concurrency == 10)
        #expect(options.rate == 20)
        #expect(options.url == "http://localhost:9080/productpage")
        #expect(options.headers.first?.1 == "session=x")
    }

    @Test(arguments: [
        ["-n", "0", "http://x/"], ["-c", "x", "http://x/"], ["--rps", "-1", "http://x/"], [],
        ["-H", "bad", "http://x/"], ["http://x:99999/"], ["--bogus"],
    ])
    func badOptionsAreConfigErrors(_ arguments: [String]) {
        #expect(throws: SettingError.self) { try LoadOptions.parse(arguments) }
    }

    @Test func versionsAreToldApartByWhatThePageShows() {
        let head = "<title>Simple Bookstore App</title>"
        #expect(ReviewsVersion(page: head + "<p>Reviews served by:</p>") == .v1)
        #expect(ReviewsVersion(page: head + #"<div class="stars text-black-500" style="color:black">"#) == .v2)
        #expect(ReviewsVersion(page: head + #"<div class="stars text-red-500" style="color:red">"#) == .v3)
        #expect(ReviewsVersion(page: head + "Error fetching product reviews") == .unavailable)
        #expect(ReviewsVersion(page: "not bookinfo") == nil)
    }

    @Test func summaryCountsAndPercentiles() {
        var samples: [LoadRun.Sample] = []
        for n in 0..<100 {
            let version: ReviewsVersion? = n < 60 ? .v1 : n < 80 ? .v2 : nil
            samples.append(LoadRun.Sample(outcome: n < 80 ? "200" : "503", seconds: Double(n) / 1000, version: version))
        }
        let report = LoadRun.summarise(samples, elapsed: 5, options: LoadOptions(url: "http://h/productpage"))
        #expect(report.succeeded == 80)
        #expect(report.text.contains("200: 80 (80%)"))
        #expect(report.text.contains("503: 20 (20%)"))
        #expect(report.text.contains("achieved 20 req/s"))
        #expect(report.text.contains("p50 50  p90 90  p99 99"))
        #expect(report.text.contains("no stars (v1): 60 (75%)"))
        #expect(report.text.contains("black stars (v2): 20 (25%)"))
    }
}
