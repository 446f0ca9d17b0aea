#if canImport(Glibc)
import Glibc
#endif
import Testing

@testable import HTTPKit

@Suite struct LogSinkTests {
    /// Reads what arrived on `fd` within `seconds`, until `expected` lines have come.
    func readLines(_ fd: Int32, expected: Int, seconds: Double) -> [String] {
        var text: [UInt8] = []
        let start = ContinuousClock.now
        var buffer = [UInt8](repeating: 0, count: 4096)
        while text.filter({ $0 == 0x0A }).count < expected, ContinuousClock.now - start < .seconds(seconds) {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 50) > 0 else { continue }
            let n = read(fd, &buffer, buffer.count)
            if n > 0 { text.append(contentsOf: buffer[0..<n]) }
        }
        return String(decoding: text, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    /// Lines are written without anyone flushing, also after the sink has been idle (its flusher sleeps then).
    @Test func linesArriveWithoutAFlushAndAfterIdle() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        let logger = Logger(service: "sink-test", version: "1", fd: fds[1])
        logger.info("first")
        logger.info("second")
        let early = readLines(fds[0], expected: 2, seconds: 2)
        #expect(early.count == 2)
        #expect(early.first?.contains(#""message":"first""#) == true)
        usleep(50_000)
        logger.info("after idle")
        let late = readLines(fds[0], expected: 1, seconds: 2)
        #expect(late.count == 1)
        #expect(late.first?.contains(#""message":"after idle""#) == true)
    }
}
