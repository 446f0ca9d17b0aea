@testable import HTTPKit

/// The response parser over a stream of responses, to GET or (an input-chosen flag) to HEAD, ended by the close of
/// the connection so that close-delimited bodies complete: fed whole and split at an input-chosen point, it must
/// give the same responses. Every response parsed is written out again and must parse to itself.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzResponse(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    let head = input.choice(2, salt: 2) == 1
    let whole = parse([input.bytes], head: head)
    let point = input.splitPoint
    let split = parse([Array(input.bytes[..<point]), Array(input.bytes[point...])], head: head)
    require(whole == split, "split at \(point): \(split) instead of \(whole)")
    for case .response(let status, _, let body) in whole where !head { roundTrip(status: status, body: body, input) }
    return 0
}

private enum Outcome: Equatable {
    case response(code: Int, fields: [String], body: [UInt8])
    case error(ParseError)
}

private func parse(_ pieces: [[UInt8]], head: Bool) -> [Outcome] {
    var parser = ResponseParser(limits: ParserLimits(maxHeaderBytes: 4096, maxHeaderCount: 32), maxBodyBytes: 8192)
    parser.requestWasHead = head
    var outcomes: [Outcome] = []
    func record(_ event: ResponseParser.Event) -> Bool {
        switch event {
        case .needMore: return false
        case .response(let response):
            outcomes.append(
                .response(code: response.status.code, fields: fields(response.headers), body: response.body))
            return true
        case .error(let error):
            outcomes.append(.error(error))
            return false
        }
    }
    for piece in pieces {
        parser.append(piece)
        while record(parser.next()) {}
        if case .error = outcomes.last { return outcomes }
    }
    _ = record(parser.finishAtEOF())
    return outcomes
}

private func fields(_ headers: HTTPHeaders) -> [String] {
    headers.fields.map { "\($0.name.lowercased()): \($0.value)" }
}

/// The status and body, written by the server's writer (by length, or chunked at an input-chosen size), parse back.
private func roundTrip(status: Int, body: [UInt8], _ input: FuzzInput) {
    var response = Response(status: HTTPStatus(code: status), headers: ["X-Kept": "1"], body: body)
    if input.choice(2, salt: 3) == 1 { response.chunkSize = 1 + input.choice(64, salt: 4) }
    guard let bytes = try? MessageWriter.response(response, keepAlive: true) else {
        return require(false, "a \(status) response could not be written")
    }
    let again = parse([bytes], head: false)
    let expected = HTTPStatus(code: status).mayHaveBody ? body : []
    guard case .response(status, let fields, expected) = again.first, fields.contains("x-kept: 1")
    else { return require(false, "written \(status) response parsed as \(again)") }
}
