/// Splits a byte stream into packets, checking each sequence number and refusing any packet over `limit` bytes
/// as soon as its header arrives. Socket-free: the caller feeds whatever bytes it has read.
public struct PacketDecoder: Sendable {
    public let limit: Int
    /// The sequence number the next packet must carry.
    public var expected: UInt8 = 0
    private var buffer: [UInt8] = []
    private var start = 0

    /// `limit` is at most 16 MB − 2 bytes: a longer payload would be split, and this client does not join them.
    public init(limit: Int = Packet.maxPayload - 1) {
        self.limit = min(limit, Packet.maxPayload - 1)
    }

    /// Bytes received and not yet returned as packets.
    public var buffered: Int { buffer.count - start }

    public mutating func append<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        if start > 0, start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next whole packet, or nil when more bytes are needed.
    public mutating func next() throws(MySQLError) -> Packet? {
        guard buffered >= 4 else { return nil }
        let length = Int(buffer[start]) | Int(buffer[start + 1]) << 8 | Int(buffer[start + 2]) << 16
        let sequence = buffer[start + 3]
        guard length <= limit else { throw .tooLarge(length: length, limit: limit) }
        guard sequence == expected else { throw .outOfSequence(expected: expected, got: sequence) }
        guard buffered >= 4 + length else { return nil }
        let payload = Array(buffer[(start + 4)..<(start + 4 + length)])
        start += 4 + length
        if start > 65_536, start * 2 > buffer.count {
            buffer.removeFirst(start)
            start = 0
        }
        expected &+= 1
        return Packet(sequence: sequence, payload: payload)
    }

    /// At the end of the stream: bytes of an unfinished packet are an error.
    public func finish() throws(MySQLError) {
        if buffered > 0 { throw .truncated("the stream ended \(buffered) bytes into a packet") }
    }
}
