@testable import MySQLKit

/// The MySQL client's decoders over a byte stream from a server: packets (whole and split at an input-chosen point
/// they are the same, and written out again they are the bytes read), then the first as the server's handshake and
/// the rest as a login reply or a query response, with or without EOF packets.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMySQL(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    let first = input.bytes.count > 3 ? input.bytes[3] : 0
    let whole = packets([input.bytes], first: first)
    let point = input.splitPoint
    let split = packets([Array(input.bytes[..<point]), Array(input.bytes[point...])], first: first)
    require(whole.packets == split.packets && whole.error == split.error, "split at \(point) gave other packets")
    let written = whole.packets.flatMap(\.bytes)
    require(written == Array(input.bytes.prefix(written.count)), "packets written out differ from the bytes read")

    guard let handshake = whole.packets.first else { return 0 }
    let capabilities = (try? ServerHandshake(handshake.payload))?.capabilities.intersection(Capabilities.wanted)
    var reader = QueryResponseReader(
        capabilities: capabilities ?? (input.choice(2, salt: 9) == 0 ? [.protocol41] : [.protocol41, .deprecateEOF]),
        maxRows: 64, maxColumns: 16)
    for packet in whole.packets.dropFirst() {
        _ = try? ServerReply(packet.payload, capabilities: [.protocol41])
        do {
            guard let result = try reader.consume(packet.payload) else { continue }
            require(result.rows.allSatisfy { $0.count == result.columns.count }, "a row and the columns disagree")
            require(result.rows.count <= 64 && result.columns.count <= 16, "the limits did not hold")
            break
        } catch {
            break
        }
    }
    return 0
}

private func packets(_ pieces: [[UInt8]], first: UInt8) -> (packets: [Packet], error: MySQLError?) {
    var decoder = PacketDecoder(limit: 4096)
    decoder.expected = first
    var packets: [Packet] = []
    do {
        for piece in pieces {
            decoder.append(piece)
            while let packet = try decoder.next() { packets.append(packet) }
        }
        try decoder.finish()
        return (packets, nil)
    } catch {
        return (packets, error)
    }
}
