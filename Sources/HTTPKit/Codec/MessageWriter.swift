import SystemKit
/// Serialises messages. Header names must be tokens and values free of CR, LF, NUL and other controls.
public enum MessageWriter {
    public struct InvalidHeader: Error, Sendable, CustomStringConvertible {
        public let name: String
        public var description: String { "invalid header field \(name)" }
    }

    /// True when the value can be sent as a header field value (RFC 9110 §5.5): no CTL but HTAB.
    public static func isValidValue(_ value: String) -> Bool {
        var value = value
        return value.withUTF8 { !ByteScan.hasFieldValueControl($0) }
    }

    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && allUTF8(name, HeaderFieldParser.isTokenByte)
    }

    /// The bytes of a response. `Content-Length` is set from the body unless the status forbids a body;
    /// for HEAD the length of the body that GET would send is kept and the body is left out.
    public static func response(
        _ response: Response, version: HTTPVersion = .http1_1, keepAlive: Bool, isHead: Bool = false
    ) throws -> [UInt8] {
        try withResponse(response, version: version, keepAlive: keepAlive, isHead: isHead) { Array($0) }
    }

    /// `use` over the bytes of a response, written in scratch storage: the server copies them straight into the
    /// connection's output buffer.
    static func withResponse<T>(
        _ response: Response, version: HTTPVersion, keepAlive: Bool, isHead: Bool,
        _ use: (UnsafeBufferPointer<UInt8>) -> T
    ) throws -> T {
        let body = response.body
        let chunkSize = response.chunkSize.flatMap {
            $0 > 0 && version != .http1_0 && response.status.mayHaveBody ? $0 : nil
        }
        let sendsBody = !isHead && response.status.mayHaveBody
        var bound = 168 + response.status.reason.utf8.count + fieldsBound(response.headers)
        if sendsBody { bound += body.count + (chunkSize.map { (body.count / $0 + 2) * 20 } ?? 0) }
        return try ByteWriter.withWritten(
            upTo: bound,
            { out in
                out.append(literal: version == .http1_0 ? "HTTP/1.0 " : "HTTP/1.1 ")
                out.append(decimal: response.status.code)
                out.append(0x20)
                if allUTF8(response.status.reason, { $0 >= 0x20 && $0 != 0x7F }) {
                    out.append(utf8: response.status.reason)
                }
                out.appendCRLF()
                if response.headers["date"] == nil { HTTPDate.appendField(to: &out) }
                try writeFields(response.headers, skippingHost: false, to: &out)
                if chunkSize != nil {
                    out.append(literal: "Transfer-Encoding: chunked\r\n")
                } else if response.status.mayHaveBody {
                    out.append(literal: "Content-Length: ")
                    out.append(decimal: body.count)
                    out.appendCRLF()
                }
                if !keepAlive {
                    out.append(literal: "Connection: close\r\n")
                } else if version == .http1_0 {
                    out.append(literal: "Connection: keep-alive\r\n")
                }
                out.appendCRLF()
                guard sendsBody else { return }
                body.withUnsafeBufferPointer { body in
                    guard let size = chunkSize else { return out.append(bytes: body) }
                    var offset = 0
                    while offset < body.count {
                        let end = min(offset + size, body.count)
                        out.append(utf8: String(end - offset, radix: 16))
                        out.appendCRLF()
                        out.append(bytes: UnsafeBufferPointer(rebasing: body[offset..<end]))
                        out.appendCRLF()
                        offset = end
                    }
                    out.append(literal: "0\r\n\r\n")
                }
            }, use: use)
    }

    /// The bytes of a request with `Host` and `Content-Length` set.
    public static func request(
        method: HTTPMethod, target: String, host: String, headers: HTTPHeaders, body: [UInt8], keepAlive: Bool
    ) throws -> [UInt8] {
        guard target.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }), isValidValue(host) else {
            throw InvalidHeader(name: "request target")
        }
        let bound =
            96 + method.rawValue.utf8.count + target.utf8.count + host.utf8.count + fieldsBound(headers) + body.count
        return try [UInt8].written(upTo: bound) { out in
            out.append(utf8: method.rawValue)
            out.append(0x20)
            out.append(utf8: target)
            out.append(literal: " HTTP/1.1\r\nHost: ")
            out.append(utf8: host)
            out.appendCRLF()
            try writeFields(headers, skippingHost: true, to: &out)
            if !body.isEmpty || method == .post || method == .put {
                out.append(literal: "Content-Length: ")
                out.append(decimal: body.count)
                out.appendCRLF()
            }
            if !keepAlive { out.append(literal: "Connection: close\r\n") }
            out.appendCRLF()
            out.append(contentsOf: body)
        }
    }

    /// What `writeFields` may write.
    private static func fieldsBound(_ headers: HTTPHeaders) -> Int {
        var bound = 0
        for index in headers.fields.indices {
            bound += headers.fields[index].name.utf8.count + headers.fields[index].value.utf8.count + 4
        }
        return bound
    }

    /// Writes each field as `name: value`, except those the writer sets itself (framing, connection, and for a
    /// request `Host`); throws for a field that is not valid to send.
    private static func writeFields(_ headers: HTTPHeaders, skippingHost: Bool, to out: inout ByteWriter) throws {
        for index in headers.fields.indices {
            let (name, value) = headers.fields[index]
            guard isValidName(name), isValidValue(value) else { throw InvalidHeader(name: name) }
            if HeaderFieldParser.isFraming(name) || (skippingHost && HTTPHeaders.equalNames(name, "Host")) { continue }
            out.append(utf8: name)
            out.append(0x3A)
            out.append(0x20)
            out.append(utf8: value)
            out.appendCRLF()
        }
    }

    /// The canned reply to a protocol error, after which the server closes the connection.
    public static func errorReply(_ status: HTTPStatus, message: String) -> [UInt8] {
        let body = "{\"error\":" + JSON.quoted(message) + "}"
        var out = Array("HTTP/1.1 \(status.code) \(status.reason)\r\n".utf8)
        HTTPDate.appendField(to: &out)
        out += Array(
            ("Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n"
                + body).utf8)
        return out
    }
}
