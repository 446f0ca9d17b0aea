#if canImport(Glibc)
import Glibc
#endif
import Testing

@testable import HTTPKit
@testable import SystemKit
@testable import ServiceKit

/// The bytes that arrive on `fd` until it reaches end of file, `lines` newlines have come, or `seconds` pass.
func readPipe(_ fd: Int32, lines: Int = .max, seconds: Double) -> [UInt8] {
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    let start = ContinuousClock.now
    while bytes.filter({ $0 == 0x0A }).count < lines, ContinuousClock.now - start < .seconds(seconds) {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, 50) > 0 else { continue }
        let n = read(fd, &chunk, chunk.count)
        if n <= 0 { break }
        bytes += chunk[0..<n]
    }
    return bytes
}

@Suite struct LogSinkTests {
    func readLines(_ fd: Int32, expected: Int, seconds: Double) -> [String] {
        String(decoding: readPipe(fd, lines: expected, seconds: seconds), as: UTF8.self).split(separator: "\n").map(
            String.init)
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
