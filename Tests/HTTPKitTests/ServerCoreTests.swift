@testable import HTTPKit
import Testing

@Suite struct ServerCoreTests {
    /// Freed heap memory is given back once a burst of connections has mostly closed, not on every small dip.
    @Test func memoryIsReleasedOnlyAfterABurstEnds() {
        #expect(ServerCore.burstEnded(open: 0, peak: 2000))
        #expect(ServerCore.burstEnded(open: 1000, peak: 2000))
        #expect(!ServerCore.burstEnded(open: 1001, peak: 2000))
        #expect(!ServerCore.burstEnded(open: 0, peak: 255))
        #expect(ServerCore.burstEnded(open: 0, peak: 256))
        #expect(!ServerCore.burstEnded(open: 50, peak: 50))
    }
}
