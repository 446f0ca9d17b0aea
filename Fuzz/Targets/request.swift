@testable import HTTPKit

/// The request parser over a stream of pipelined requests, fed whole, split at an input-chosen point and a byte at a
/// time: all three must give the same requests and errors. Every request parsed is written out again and must parse
/// to itself.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRequest(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    let limits = ParserLimits(maxRequestLineBytes: 1024, maxHeaderBytes: 4096, maxHeaderCount: 32, maxBodyBytes: 8192)
    let whole = parse([input.bytes], limits: limits)
    let point = input.splitPoint
    let split = parse([Array(input.bytes[..<point]), Array(input.bytes[point...])], limits: limits)
    require(whole == split, "split at \(point): \(split) instead of \(whole)")
    if input.bytes.count <= 256 {
        let bytewise = parse(input.bytes.map { [$0] }, limits: limits)
        require(whole == bytewise, "a byte at a time: \(bytewise) instead of \(whole)")
    }
    for case .request(let request) in whole { roundTrip(request, limits: limits) }
    return 0
}

/// What the parser made of the stream, without the interim 100-continue events (those depend on where it was cut).
private func parse(_ pieces: [[UInt8]], limits: ParserLimits) -> [RequestParser.Event] {
    var parser = RequestParser(limits: limits)
    var events: [RequestParser.Event] = []
    for piece in pieces {
        parser.append(piece)
        loop: while true {
            let event = parser.next()
            switch event {
            case .needMore: break loop
            case .expectContinue: continue
            case .request: events.append(event)
            case .error:
                events.append(event)
                return events
            }
        }
    }
    if let error = parser.finishAtEOF() { events.append(.error(error)) }
    return events
}

/// The request as a client writes it (Host first, the body framed by length) parses to the same request.
private func roundTrip(_ request: Request, limits: ParserLimits) {
    guard let host = request.headers["Host"], request.version == .http1_1 else { return }
    let bytes: [UInt8]
    do {
        bytes = try MessageWriter.request(
            method: request.method, target: request.target, host: host, headers: request.headers,
            body: request.body, keepAlive: true)
    } catch {
        require(false, "a parsed request could not be written: \(error)")
        return
    }
    var parser = RequestParser(limits: ParserLimits(maxRequestLineBytes: 1 << 16, maxHeaderBytes: 1 << 20))
    parser.append(bytes)
    guard case .request(let again) = parser.next() else {
        require(false, "written request did not parse: \(String(decoding: bytes, as: UTF8.self))")
        return
    }
    require(again.method == request.method && again.target == request.target, "request line changed")
    require(again.body == request.body, "body changed: \(again.body) instead of \(request.body)")
    require(
        unframed(again.headers) == unframed(request.headers),
        "fields changed: \(unframed(again.headers)) instead of \(unframed(request.headers))")
}

/// The fields other than those the writer sets itself, Host in first place.
private func unframed(_ headers: HTTPHeaders) -> [String] {
    let kept = headers.fields.filter { !HeaderFieldParser.isFraming($0.name) }
    let host = kept.filter { HTTPHeaders.equalNames($0.name, "Host") }
    let rest = kept.filter { !HTTPHeaders.equalNames($0.name, "Host") }
    return (host + rest).map { "\($0.name.lowercased()): \($0.value)" }
}
