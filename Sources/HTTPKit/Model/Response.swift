/// A response a handler returns. The server adds `Content-Length`, `Date`-free framing and `Connection`.
public struct Response: Sendable {
    public var status: HTTPStatus
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// Send the body with chunked transfer coding instead of Content-Length, in chunks of at most this many
    /// bytes (HTTP/1.1 clients only; an HTTP/1.0 client gets Content-Length).
    public var chunkSize: Int?

    public init(status: HTTPStatus = .ok, headers: HTTPHeaders = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public init(status: HTTPStatus = .ok, contentType: String, body: String) {
        self.init(status: status, headers: ["Content-Type": contentType], body: Array(body.utf8))
    }

    public static func text(_ text: String, status: HTTPStatus = .ok) -> Response {
        Response(status: status, contentType: "text/plain; charset=utf-8", body: text)
    }

    public static func html(_ html: String, status: HTTPStatus = .ok) -> Response {
        Response(status: status, contentType: "text/html; charset=utf-8", body: html)
    }

    public static func json(_ json: String, status: HTTPStatus = .ok) -> Response {
        Response(status: status, contentType: "application/json", body: json)
    }

    public static func json(_ value: JSON, status: HTTPStatus = .ok) -> Response {
        Response(status: status, headers: ["Content-Type": "application/json"], body: value.bytes())
    }

    public static func redirect(to location: String, status: HTTPStatus = .found) -> Response {
        Response(status: status, headers: ["Location": location], body: [])
    }

    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}
