import SystemKit
/// An incremental, socket-free HTTP/1.1 request parser (RFC 9112). Feed it bytes with `append`, then call `next()`
/// until it answers `.needMore`. Pipelined requests come out one at a time, in order.
public struct RequestParser {
    public enum Event: Equatable {
        /// More input is needed.
        case needMore
        /// The head of a request that asked for `Expect: 100-continue` and has a body still to come.
        case expectContinue(HTTPVersion)
        /// A complete request.
        case request(Request)
        /// The input is not acceptable; answer `error.status` and close. The parser stays failed.
        case error(ParseError)

        public static func == (lhs: Event, rhs: Event) -> Bool {
            switch (lhs, rhs) {
            case (.needMore, .needMore): return true
            case let (.expectContinue(a), .expectContinue(b)): return a == b
            case let (.error(a), .error(b)): return a == b
            case let (.request(a), .request(b)):
                return a.method == b.method && a.target == b.target && a.version == b.version
                    && a.headers == b.headers && a.trailers == b.trailers && a.body == b.body
            default: return false
            }
        }
    }

    private enum State {
        case head
        case body(Request, BodyDecoder)
        case failed(ParseError)
    }

    public let limits: ParserLimits
    private var buffer: [UInt8] = []
    private var start = 0
    private var scanner = HeadScanner()
    private var state = State.head

    public init(limits: ParserLimits = ParserLimits()) {
        self.limits = limits
        buffer.reserveCapacity(4096)
    }

    /// Bytes received but not yet consumed by a complete request.
    public var bufferedByteCount: Int { buffer.count - start }

    /// True while no byte of a next request has arrived: the connection is idle between requests.
    public var isIdle: Bool {
        if case .head = state { return start == buffer.count }
        return false
    }

    /// True once the head of the current request is parsed and its body is still arriving.
    public var isReadingBody: Bool {
        if case .body = state { return true }
        return false
    }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        compact()
        buffer.append(contentsOf: bytes)
    }

    public mutating func append(_ bytes: some Sequence<UInt8>) {
        compact()
        buffer.append(contentsOf: bytes)
    }

    private mutating func compact() {
        guard start > 0 else { return }
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
        } else if start >= 4096 {
            buffer.removeFirst(start)
        } else {
            return
        }
        scanner.rebase(by: start)
        start = 0
    }

    public mutating func next() -> Event {
        do {
            switch state {
            case .failed(let error):
                return .error(error)
            case .head:
                guard
                    let end = try scanner.scan(
                        buffer, from: start, firstLineLimit: limits.maxRequestLineBytes, firstLineError: .uriTooLong,
                        totalLimit: limits.maxHeaderBytes
                    )
                else { return .needMore }
                var framing = BodyFraming.none
                let request = try parseHead(framing: &framing)
                scanner.reset()
                start = end
                var decoder = BodyDecoder(framing: framing, limits: limits, maxBody: limits.maxBodyBytes)
                if decoder.isComplete { return .request(request) }
                let expects = request.headers["Expect"]?.lowercased() == "100-continue" && request.version == .http1_1
                state = .body(request, decoder)
                if expects, start == buffer.count { return .expectContinue(request.version) }
                if try decoder.consume(buffer, &start) { return finish(request, decoder) }
                state = .body(request, decoder)
                return .needMore
            case .body(let request, var decoder):
                if try decoder.consume(buffer, &start) { return finish(request, decoder) }
                state = .body(request, decoder)
                return .needMore
            }
        } catch let error as ParseError {
            state = .failed(error)
            return .error(error)
        } catch {
            state = .failed(.malformed("\(error)"))
            return .error(.malformed("\(error)"))
        }
    }

    /// The peer closed its side: an unfinished request is an error, nothing buffered is fine.
    public mutating func finishAtEOF() -> ParseError? {
        if case .failed(let error) = state { return error }
        if isIdle { return nil }
        return .malformed("connection closed in the middle of a request")
    }

    private mutating func finish(_ request: Request, _ decoder: BodyDecoder) -> Event {
        var complete = request
        complete.body = decoder.body
        complete.trailers = decoder.trailers
        state = .head
        return .request(complete)
    }

    /// The request of the scanned head, and how its body is framed (not a tuple: destroying a tuple of these
    /// goes through the runtime's generic value witnesses).
    private func parseHead(framing: inout BodyFraming) throws -> Request {
        let lines = scanner.lines
        let requestLine = buffer[lines[0]]
        guard let firstSpace = requestLine.firstIndex(of: 0x20),
            let secondSpace = requestLine[(firstSpace + 1)...].firstIndex(of: 0x20),
            !requestLine[(secondSpace + 1)...].contains(0x20)
        else { throw ParseError.malformed("request line is not 'method target version'") }
        let parts = (
            requestLine[..<firstSpace], requestLine[(firstSpace + 1)..<secondSpace], requestLine[(secondSpace + 1)...]
        )
        guard HeaderFieldParser.isToken(parts.0) else { throw ParseError.malformed("invalid method") }
        let target = parts.1
        guard !target.isEmpty, target.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw ParseError.malformed("invalid request target")
        }
        let version = try Self.parseVersion(parts.2)
        let method = String(decoding: parts.0, as: UTF8.self)
        let targetText = String(decoding: target, as: UTF8.self)
        let isOriginForm = target.first == UInt8(ascii: "/")
        guard
            isOriginForm || targetText.hasPrefix("http://") || targetText.hasPrefix("https://")
                || (targetText == "*" && method == "OPTIONS")
        else {
            throw ParseError.malformed("unsupported request target form")
        }
        let headers = try HeaderFieldParser.parse(buffer, lines: lines[1...], maxCount: limits.maxHeaderCount)
        let hosts = headers.count("Host")
        guard hosts <= 1 else { throw ParseError.malformed("more than one Host header field") }
        guard version == .http1_0 || hosts == 1 else { throw ParseError.malformed("missing Host header field") }
        framing = try HeaderFieldParser.framing(of: headers, version: version, maxBody: limits.maxBodyBytes)
        return Request(method: HTTPMethod(method), target: targetText, version: version, headers: headers)
    }

    static func parseVersion(_ bytes: ArraySlice<UInt8>) throws -> HTTPVersion {
        let b = bytes.startIndex
        guard bytes.count == 8, bytes[b] == UInt8(ascii: "H"), bytes[b + 1] == UInt8(ascii: "T"),
            bytes[b + 2] == UInt8(ascii: "T"),
            bytes[b + 3] == UInt8(ascii: "P"), bytes[b + 4] == UInt8(ascii: "/"), bytes[b + 6] == UInt8(ascii: "."),
            (0x30...0x39).contains(bytes[b + 5]), (0x30...0x39).contains(bytes[b + 7])
        else { throw ParseError.malformed("invalid HTTP version") }
        let major = Int(bytes[b + 5] - 0x30), minor = Int(bytes[b + 7] - 0x30)
        guard major == 1 else { throw ParseError.versionNotSupported }
        return HTTPVersion(major: 1, minor: min(minor, 1))
    }
}
