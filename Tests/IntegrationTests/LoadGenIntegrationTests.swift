import Foundation
import HTTPKit
import Testing
import TestSupport
import SystemKit
import ServiceKit

@Suite struct LoadGenIntegrationTests {
    @Test func measuresTheSpreadOverReviewsVersions() throws {
        let bookinfo = try Bookinfo()
        defer { bookinfo.stop() }
        let page = try bookinfo.roundRobinPage()
        defer { page.stop() }
        let start = Deadline.now
        let (status, output) = try ServiceProcess.run(
            "loadgen", arguments: ["-n", "30", "-c", "3", "--rps", "60", page.baseURL + "/productpage"])
        #expect(status == 0, "\(output)")
        #expect(output.contains("200: 30 (100%)"), "\(output)")
        for version in ["no stars (v1): 10", "black stars (v2): 10", "red stars (v3): 10"] {
            #expect(output.contains(version), "\(output)")
        }
        #expect(secondsSince(start) >= 0.45, "30 requests at 60/s take about half a second")
    }
}
