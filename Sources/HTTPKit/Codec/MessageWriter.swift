/// Serialises messages. Header names must be tokens and values free of CR, LF, NUL and other controls.
public enum MessageWriter {
    public struct InvalidHeader: Error, Sendable, CustomStringConvertible {
        public let name: String
        public var description: String { "invalid header field \(name)" }
    }

    /// True when the value can be sent as a header field value (RFC 9110 §5.5): no CTL but HTAB.
    public static func isValidValue(_ value: String) -> Bool {
        allUTF8(value) { ($0 >= 0x20 && $0 != 0x7F) || $0 == 0x09 }
    }

    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && allUTF8(name, HeaderFieldParser.isTokenByte)
    }

    public static func validate(_ headers: HTTPHeaders) throws {
        for (name, value) in headers where !isValidName(name) || !isValidValue(value) {
            throw InvalidHeader(name: name)
        }
    }

    /// The bytes of a response. `Content-Length` is set from the body unless the status forbids a body;
    /// for HEAD the length of the body that GET would send is kept and the body is left out.
    public static func response(
        _ response: Response, version: HTTPVersion = .http1_1, keepAlive: Bool, isHead: Bool = false
    ) throws -> [UInt8] {
        try validate(response.headers)
        var out: [UInt8] = []
        out.reserveCapacity(96 + response.headers.count * 48 + (isHead ? 0 : response.body.count))
        out.append(literal: version == .http1_0 ? "HTTP/1.0 " : "HTTP/1.1 ")
        out.append(decimal: response.status.code)
        out.append(0x20)
        if allUTF8(response.status.reason, { $0 >= 0x20 && $0 != 0x7F }) { out.append(utf8: response.status.reason) }
        out.appendCRLF()
        for (name, value) in response.headers {
            if HTTPHeaders.equalNames(name, "Content-Length") || HTTPHeaders.equalNames(name, "Connection")
                || HTTPHeaders.equalNames(name, "Transfer-Encoding")
            {
                continue
            }
            out.append(utf8: name)
            out.append(0x3A)
            out.append(0x20)
            out.append(utf8: value)
            out.appendCRLF()
        }
        let chunked = response.chunkSize.map { $0 > 0 } == true && version != .http1_0 && response.status.mayHaveBody
        if chunked {
            out.append(literal: "Transfer-Encoding: chunked\r\n")
        } else if response.status.mayHaveBody {
            out.append(literal: "Content-Length: ")
            out.append(decimal: response.body.count)
            out.appendCRLF()
        }
        if !keepAlive {
            out.append(literal: "Connection: close\r\n")
        } else if version == .http1_0 {
            out.append(literal: "Connection: keep-alive\r\n")
        }
        out.appendCRLF()
        if isHead || !response.status.mayHaveBody { return out }
        guard chunked, let size = response.chunkSize else {
            out.append(contentsOf: response.body)
            return out
        }
        var offset = 0
        while offset < response.body.count {
            let end = min(offset + size, response.body.count)
            out.append(utf8: String(end - offset, radix: 16))
            out.appendCRLF()
            out.append(contentsOf: response.body[offset..<end])
            out.appendCRLF()
            offset = end
        }
        out.append(literal: "0\r\n\r\n")
        return out
    }

    /// The bytes of a request with `Host` and `Content-Length` set.
    public static func request(
        method: HTTPMethod, target: String, host: String, headers: HTTPHeaders, body: [UInt8], keepAlive: Bool
    ) throws -> [UInt8] {
        try validate(headers)
        guard target.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }), isValidValue(host) else {
            throw InvalidHeader(name: "request target")
        }
        var out: [UInt8] = []
        out.reserveCapacity(64 + target.utf8.count + headers.fields.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 } + body.count)
        out.append(utf8: method.rawValue)
        out.append(0x20)
        out.append(utf8: target)
        out.append(literal: " HTTP/1.1\r\nHost: ")
        out.append(utf8: host)
        out.appendCRLF()
        for (name, value) in headers {
            if HTTPHeaders.equalNames(name, "Host") || HTTPHeaders.equalNames(name, "Content-Length")
                || HTTPHeaders.equalNames(name, "Connection") || HTTPHeaders.equalNames(name, "Transfer-Encoding")
            {
                continue
            }
            out.append(utf8: name)
            out.append(0x3A)
            out.append(0x20)
            out.append(utf8: value)
            out.appendCRLF()
        }
        if !body.isEmpty || method == .post || method == .put {
            out.append(literal: "Content-Length: ")
            out.append(decimal: body.count)
            out.appendCRLF()
        }
        if !keepAlive { out.append(literal: "Connection: close\r\n") }
        out.appendCRLF()
        out.append(contentsOf: body)
        return out
    }

    /// The canned reply to a protocol error, after which the server closes the connection.
    public static func errorReply(_ status: HTTPStatus, message: String) -> [UInt8] {
        let body = "{\"error\":" + JSON.quoted(message) + "}"
        return Array(
            ("HTTP/1.1 \(status.code) \(status.reason)\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n"
                + body).utf8
        )
    }
}
