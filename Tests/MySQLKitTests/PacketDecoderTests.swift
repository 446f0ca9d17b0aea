import Testing

@testable import MySQLKit

@Suite struct PacketDecoderTests {
    static let payloads: [[UInt8]] = [
        [], [0x0E], Array(0..<200).map { UInt8($0) }, [UInt8](repeating: 7, count: 70_000),
    ]
    static let stream = ServerBytes.framed(payloads, first: 0)

    /// Feeds `bytes` in the given chunk boundaries and returns every packet, checking none appears early.
    func decode(_ bytes: [UInt8], cuts: [Int]) throws -> [Packet] {
        var decoder = PacketDecoder()
        var packets: [Packet] = []
        var start = 0
        for cut in cuts + [bytes.count] where cut >= start {
            decoder.append(bytes[start..<cut])
            start = cut
            while let packet = try decoder.next() { packets.append(packet) }
        }
        try decoder.finish()
        return packets
    }

    @Test func wholeByteByByteAndSplitAtEveryPositionGiveTheSamePackets() throws {
        let expected = Self.payloads.enumerated().map { Packet(sequence: UInt8($0.offset), payload: $0.element) }
        #expect(try decode(Self.stream, cuts: []) == expected)
        let small = ServerBytes.framed(Array(Self.payloads.prefix(3)), first: 0)
        #expect(try decode(small, cuts: Array(0..<small.count)) == Array(expected.prefix(3)))
        for cut in 0...Self.stream.count where cut % 97 == 0 || cut < 300 || cut > Self.stream.count - 300 {
            #expect(try decode(Self.stream, cuts: [cut]) == expected, "split at \(cut)")
        }
        for a in stride(from: 0, to: small.count, by: 3) {
            for b in stride(from: a, to: small.count, by: 5) {
                #expect(try decode(small, cuts: [a, b]) == Array(expected.prefix(3)), "split at \(a) and \(b)")
            }
        }
    }

    @Test func aPacketOutOfSequenceIsAnError() throws {
        var decoder = PacketDecoder()
        decoder.append(Packet(sequence: 0, payload: [1]).bytes + Packet(sequence: 2, payload: [2]).bytes)
        #expect(try decoder.next()?.payload == [1])
        #expect(throws: MySQLError.outOfSequence(expected: 1, got: 2)) { try decoder.next() }
        var fresh = PacketDecoder()
        fresh.expected = 5
        fresh.append(Packet(sequence: 4, payload: []).bytes)
        #expect(throws: MySQLError.outOfSequence(expected: 5, got: 4)) { try fresh.next() }
    }

    @Test func theSequenceWrapsAfter255() throws {
        var decoder = PacketDecoder()
        decoder.expected = 255
        decoder.append(Packet(sequence: 255, payload: [1]).bytes + Packet(sequence: 0, payload: [2]).bytes)
        #expect(try decoder.next()?.sequence == 255)
        #expect(try decoder.next()?.sequence == 0)
    }

    @Test func anOversizedPacketIsRefusedFromItsHeaderAlone() throws {
        var decoder = PacketDecoder()
        decoder.append([0xFF, 0xFF, 0xFF, 0])  // 16 MB − 1: a split packet, which this client does not join
        #expect(throws: MySQLError.tooLarge(length: 0xFF_FFFF, limit: 0xFF_FFFE)) { try decoder.next() }
        var small = PacketDecoder(limit: 100)
        small.append([101, 0, 0, 0])
        #expect(throws: MySQLError.tooLarge(length: 101, limit: 100)) { try small.next() }
        var exact = PacketDecoder(limit: 100)
        exact.append(Packet(sequence: 0, payload: [UInt8](repeating: 1, count: 100)).bytes)
        #expect(try exact.next()?.payload.count == 100)
        #expect(PacketDecoder(limit: 1 << 30).limit == 0xFF_FFFE)
    }

    @Test func theStreamEndingInsideAPacketIsAnError() throws {
        for length in 1..<Self.stream.prefix(220).count where ![4, 9, 213].contains(length) {
            var decoder = PacketDecoder()
            decoder.append(Self.stream.prefix(length))
            while (try? decoder.next()) != nil {}
            #expect(throws: MySQLError.self, "cut after \(length) bytes") { try decoder.finish() }
        }
    }

    @Test func framingWritesTheLengthLittleEndian() {
        #expect(Packet(sequence: 3, payload: [UInt8](repeating: 0, count: 0x1_0203)).bytes.prefix(4) == [3, 2, 1, 3])
    }
}
