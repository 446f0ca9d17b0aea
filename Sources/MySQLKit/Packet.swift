/// One MySQL packet: a sequence number and its payload.
public struct Packet: Sendable, Equatable {
    public var sequence: UInt8
    public var payload: [UInt8]

    public init(sequence: UInt8, payload: [UInt8]) {
        self.sequence = sequence
        self.payload = payload
    }

    /// The largest payload one packet can carry; a payload of exactly this length continues in the next packet.
    public static let maxPayload = 0xFF_FFFF

    /// The packet on the wire: a 3-byte little-endian length, the sequence number, the payload.
    public var bytes: [UInt8] {
        precondition(payload.count < Packet.maxPayload, "commands over 16 MB are not sent")
        let n = payload.count
        return [UInt8(n & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n >> 16), sequence] + payload
    }
}
