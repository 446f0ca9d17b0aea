import SystemKit
/// The head and body of a response as a client receives it.
public struct ClientResponse: Sendable {
    public var status: HTTPStatus
    public var version: HTTPVersion
    public var body: [UInt8]
    /// The validated head as received, its fields made into strings only when `headers` is read: most upstream
    /// responses are used for their status and body alone.
    private var head: [UInt8] = []
    /// The fields framing and keep-alive depend on (all of them once `headers` has been set).
    private var framingFields: HTTPHeaders
    private var headersSet: Bool

    public init(status: HTTPStatus, version: HTTPVersion = .http1_1, headers: HTTPHeaders, body: [UInt8]) {
        self.status = status
        self.version = version
        self.body = body
        framingFields = headers
        headersSet = true
    }

    init(status: HTTPStatus, version: HTTPVersion, head: [UInt8], framingFields: HTTPHeaders) {
        self.status = status
        self.version = version
        body = []
        self.head = head
        self.framingFields = framingFields
        headersSet = false
    }

    public var headers: HTTPHeaders {
        get { headersSet ? framingFields : Self.fields(ofHead: head) }
        set {
            framingFields = newValue
            head = []
            headersSet = true
        }
    }

    /// The fields of a head the parser has already accepted, found again by the same scanner.
    private static func fields(ofHead head: [UInt8]) -> HTTPHeaders {
        var scanner = HeadScanner()
        let limit = head.count
        guard
            (try? scanner.scan(
                head, from: 0, firstLineLimit: limit, firstLineError: .headersTooLarge, totalLimit: limit)) != nil,
            let fields = try? HeaderFieldParser.parse(head, lines: scanner.lines.dropFirst(), maxCount: .max)
        else { return HTTPHeaders() }
        return fields
    }

    public var bodyText: String { String(decoding: body, as: UTF8.self) }
    /// Whether the server lets the connection be reused.
    public var keepAlive: Bool { HTTPKeepAlive.decide(version: version, headers: framingFields) && framedByLength }
    var framedByLength = true
}

/// An incremental, socket-free HTTP/1.1 response parser. Interim 1xx responses are skipped.
public struct ResponseParser {
    public enum Event {
        case needMore
        case response(ClientResponse)
        case error(ParseError)
    }

    private enum State {
        case head
        case body(ClientResponse, BodyDecoder)
        case failed(ParseError)
    }

    let limits: ParserLimits
    let maxBodyBytes: Int
    /// Responses to HEAD carry no body whatever their headers say.
    public var requestWasHead = false
    private var buffer: [UInt8] = []
    private var start = 0
    private var scanner = HeadScanner()
    private var state = State.head

    public init(limits: ParserLimits = ParserLimits(), maxBodyBytes: Int = 16 << 20) {
        self.limits = limits
        self.maxBodyBytes = maxBodyBytes
    }

    /// True when bytes arrived that no response has consumed yet.
    public var hasBufferedBytes: Bool { start < buffer.count }

    /// Ready for the next response on the same connection, keeping its storage; nothing may be buffered.
    public mutating func reset(requestWasHead: Bool) {
        buffer.removeAll(keepingCapacity: buffer.capacity <= 64 * 1024)
        start = 0
        scanner.reset()
        state = .head
        self.requestWasHead = requestWasHead
    }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        buffer.append(contentsOf: bytes)
    }

    public mutating func append(_ bytes: some Sequence<UInt8>) {
        buffer.append(contentsOf: bytes)
    }

    public mutating func next() -> Event {
        do {
            while true {
                switch state {
                case .failed(let error):
                    return .error(error)
                case .head:
                    guard
                        let end = try scanner.scan(
                            buffer, from: start, firstLineLimit: limits.maxHeaderBytes,
                            firstLineError: .headersTooLarge,
                            totalLimit: limits.maxHeaderBytes
                        )
                    else { return .needMore }
                    let (response, framing) = try parseHead()
                    scanner.reset()
                    start = end
                    if (100..<200).contains(response.status.code) { continue }
                    var decoder = BodyDecoder(framing: framing, limits: limits, maxBody: maxBodyBytes)
                    if try decoder.consume(buffer, &start) { return finish(response, decoder) }
                    state = .body(response, decoder)
                    return .needMore
                case .body(let response, var decoder):
                    if try decoder.consume(buffer, &start) { return finish(response, decoder) }
                    state = .body(response, decoder)
                    return .needMore
                }
            }
        } catch let error as ParseError {
            state = .failed(error)
            return .error(error)
        } catch {
            state = .failed(.malformed("\(error)"))
            return .error(.malformed("\(error)"))
        }
    }

    /// The server closed the connection: completes a close-delimited body.
    public mutating func finishAtEOF() -> Event {
        switch state {
        case .failed(let error): return .error(error)
        case .head: return .error(.malformed("connection closed before a complete response head"))
        case .body(let response, var decoder):
            do {
                try decoder.finishAtEOF()
                return finish(response, decoder)
            } catch let error as ParseError {
                state = .failed(error)
                return .error(error)
            } catch {
                return .error(.malformed("\(error)"))
            }
        }
    }

    private mutating func finish(_ response: ClientResponse, _ decoder: BodyDecoder) -> Event {
        var complete = response
        complete.body = decoder.body
        state = .head
        return .response(complete)
    }

    private func parseHead() throws -> (ClientResponse, BodyFraming) {
        let lines = scanner.lines
        // The head through its blank line (the last line's CRLF and the empty line's), copied once: the status
        // line is read from the copy.
        let head = Array(buffer[lines[0].lowerBound..<lines[lines.count - 1].upperBound + 4])
        let statusLine = head[..<lines[0].count]
        guard statusLine.count >= 12, statusLine[8] == 0x20, statusLine.count == 12 || statusLine[12] == 0x20 else {
            throw ParseError.malformed("invalid status line")
        }
        let version = try RequestParser.parseVersion(statusLine[0..<8])
        guard let code = Int(String(decoding: statusLine[9..<12], as: UTF8.self)), (100...999).contains(code) else {
            throw ParseError.malformed("invalid status code")
        }
        let reason = statusLine.count > 13 ? String(decoding: statusLine[13...], as: UTF8.self) : ""
        let framingFields = try HeaderFieldParser.parse(buffer, lines: lines[1...], maxCount: limits.maxHeaderCount) {
            name in
            HeaderFieldParser.isFraming(name)
        }
        let status = HTTPStatus(code: code, reason: reason)
        let framing =
            requestWasHead || !status.mayHaveBody
            ? .none
            : try HeaderFieldParser.framing(
                of: framingFields, version: .http1_1, maxBody: maxBodyBytes, unframed: .untilClose)
        var response = ClientResponse(status: status, version: version, head: head, framingFields: framingFields)
        response.framedByLength = framing != .untilClose
        return (response, framing)
    }
}
