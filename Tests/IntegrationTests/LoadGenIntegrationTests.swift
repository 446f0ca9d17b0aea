import Foundation
import Synchronization
import HTTPKit
import Testing
import TestSupport

@Suite struct LoadGenIntegrationTests {
    @Test func measuresTheSpreadOverReviewsVersions() throws {
        let bookinfo = try Bookinfo()
        defer { bookinfo.stop() }
        let endpoints = ["v1", "v2", "v3"].map { "127.0.0.1:\(bookinfo.reviews[$0]!.port)" }.joined(separator: ",")
        let page = try ServiceProcess(
            "productpage",
            [
                "DETAILS_HOSTNAME": "127.0.0.1", "DETAILS_SERVICE_PORT": String(bookinfo.details.port),
                "REVIEWS_ENDPOINTS": endpoints,
            ])
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
