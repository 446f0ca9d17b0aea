@testable import HTTPKit

/// The chunked body decoder with trailers over any bytes, whole and split at an input-chosen point. A body it
/// decodes equals the same body sent with a Content-Length, and cut into chunks of an input-chosen size and
/// encoded again (its trailers too), it decodes to the same body and trailers.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzChunked(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    let whole = decode([input.bytes], .chunked)
    let point = input.splitPoint
    let split = decode([Array(input.bytes[..<point]), Array(input.bytes[point...])], .chunked)
    require(whole == split, "split at \(point): \(split) instead of \(whole)")
    guard case .body(let body, let trailers, _) = whole else { return 0 }
    let byLength = decode([body], body.isEmpty ? .none : .length(body.count))
    require(byLength == .body(body, [], consumed: body.count), "by length: \(byLength)")
    let encoded = encode(body, trailers: trailers, chunk: 1 + input.choice(1 + body.count, salt: 5))
    // Undecodable bytes in a trailer come back as U+FFFD, three bytes each: the head limit grows to match.
    let again = decode([encoded], .chunked, limits: ParserLimits(maxHeaderBytes: 4 * 2048, maxHeaderCount: 16))
    require(again == .body(body, trailers, consumed: encoded.count), "re-encoded: \(again)")
    return 0
}

private enum Outcome: Equatable {
    case body([UInt8], [String], consumed: Int)
    case incomplete
    case error(ParseError)
}

private let limits = ParserLimits(maxHeaderBytes: 2048, maxHeaderCount: 16)

private func decode(_ pieces: [[UInt8]], _ framing: BodyFraming, limits: ParserLimits = limits) -> Outcome {
    var decoder = BodyDecoder(framing: framing, limits: limits, maxBody: 8192)
    var buffer: [UInt8] = []
    var index = 0
    do {
        for piece in pieces {
            buffer += piece
            if try decoder.consume(buffer, &index) {
                let trailers = decoder.trailers.fields.map { "\($0.name): \($0.value)" }
                return .body(decoder.body, trailers, consumed: index)
            }
        }
        return decoder.isComplete ? .body(decoder.body, [], consumed: index) : .incomplete
    } catch let error as ParseError {
        return .error(error)
    } catch {
        return .error(.malformed("\(error)"))
    }
}

private func encode(_ body: [UInt8], trailers: [String], chunk: Int) -> [UInt8] {
    var out: [UInt8] = []
    var offset = 0
    while offset < body.count {
        let end = min(offset + chunk, body.count)
        out += Array(String(end - offset, radix: 16).utf8) + [13, 10] + body[offset..<end] + [13, 10]
        offset = end
    }
    out += Array("0\r\n".utf8)
    for trailer in trailers { out += Array(trailer.utf8) + [13, 10] }
    return out + [13, 10]
}
