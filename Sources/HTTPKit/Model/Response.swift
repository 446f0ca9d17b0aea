import SystemKit
/// A response a handler returns. The server adds `Date` (unless set), `Content-Length` or chunked framing, and `Connection`.
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
        .text(bytes: Array(text.utf8), status: status)
    }

    public static func text(bytes: [UInt8], status: HTTPStatus = .ok) -> Response {
        Response(status: status, headers: textType, body: bytes)
    }

    public static func html(_ html: String, status: HTTPStatus = .ok) -> Response {
        Response(status: status, headers: htmlType, body: Array(html.utf8))
    }

    public static func json(_ json: String, status: HTTPStatus = .ok) -> Response {
        .json(bytes: Array(json.utf8), status: status)
    }

    public static func json(_ value: JSON, status: HTTPStatus = .ok) -> Response {
        .json(bytes: value.bytes(), status: status)
    }

    /// JSON text already written.
    public static func json(bytes: [UInt8], status: HTTPStatus = .ok) -> Response {
        Response(status: status, headers: jsonType, body: bytes)
    }

    // Made once: a header list built per response is an allocation per response.
    private static let textType: HTTPHeaders = ["Content-Type": "text/plain; charset=utf-8"]
    private static let htmlType: HTTPHeaders = ["Content-Type": "text/html; charset=utf-8"]
    private static let jsonType: HTTPHeaders = ["Content-Type": "application/json"]

    public static func redirect(to location: String, status: HTTPStatus = .found) -> Response {
        Response(status: status, headers: ["Location": location], body: [])
    }

    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}
