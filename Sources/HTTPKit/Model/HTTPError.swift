import SystemKit
/// An error a handler throws to answer with a status and a one-line JSON message `{"error":"..."}`.
public struct HTTPError: Error, Sendable, Equatable {
    public var status: HTTPStatus
    public var message: String
    public var headers: HTTPHeaders

    public init(_ status: HTTPStatus, _ message: String? = nil, headers: HTTPHeaders = [:]) {
        self.status = status
        self.message = message ?? status.reason
        self.headers = headers
    }

    public var response: Response {
        var response = Response.json(.object([("error", .string(message))]), status: status)
        for (name, value) in headers { response.headers.replaceOrAdd(name, value) }
        return response
    }
}
