#if canImport(Glibc)
import Glibc
#endif
@testable import HTTPKit
import TestSupport
import Testing
@testable import SystemKit
@testable import ServiceKit

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

    #if canImport(Glibc)
    /// Memory freed inside the heap, where glibc does not trim it by itself (a block kept every 64 KB), goes back to
    /// the system when released.
    @Test(.disabled(if: Sanitizer.replacesMalloc, "the sanitizers' allocators replace malloc and its trimming"))
    func freedHeapMemoryGoesBackToTheSystem() throws {
        func residentBytes() throws -> Int {
            let fields = try String(contentsOfFile: "/proc/self/statm", encoding: .utf8).split(separator: " ")
            return Int(fields[1])! * Int(sysconf(Int32(_SC_PAGESIZE)))
        }
        let blocks = (0..<40_000).map { _ in malloc(1024)! }
        for block in blocks { memset(block, 1, 1024) }
        for (index, block) in blocks.enumerated() where index % 64 != 0 { free(block) }
        let before = try residentBytes()
        #expect(releaseFreeHeapMemory())
        let after = try residentBytes()
        for (index, block) in blocks.enumerated() where index % 64 == 0 { free(block) }
        #expect(before - after > 20 << 20, "resident \(before >> 20) MB before, \(after >> 20) MB after")
    }
    #endif
}
