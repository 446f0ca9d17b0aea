import SystemKit
/// What a handler answers: a response now, or upstream calls to make first and what to do with their results.
///
/// On the server, calls are made by the event loop itself on non-blocking sockets, so a handler that calls
/// upstreams needs no thread of its own while it waits; `then` runs on the loop when every call of the batch
/// has its result, and must not block either. `blocking` moves the rest of the work to the worker pool, for
/// the rare path that has to wait (a pause between retries, a sleep).
public enum Reply: Sendable {
    public typealias Results = [Result<ClientResponse, HTTPClientError>]

    case response(Response)
    case calls([HTTPClient.Call], then: @Sendable (Results) throws -> Reply)
    case blocking(@Sendable () throws -> Reply)

    /// One call; `then` gets its result.
    public static func call(
        _ call: HTTPClient.Call, then: @escaping @Sendable (Result<ClientResponse, HTTPClientError>) throws -> Reply
    ) -> Reply {
        .calls([call]) { try then($0[0]) }
    }

    /// The same reply with `transform` applied to its final response; an error thrown by any later step
    /// becomes its response first (an `HTTPError` its own, anything else a 500).
    public func map(_ transform: @escaping @Sendable (Response) -> Response) -> Reply {
        switch self {
        case .response(let response):
            return .response(transform(response))
        case .calls(let calls, let then):
            return .calls(calls) { results in Reply.catching { try then(results) }.map(transform) }
        case .blocking(let work):
            return .blocking { Reply.catching(work).map(transform) }
        }
    }

    /// The reply `work` gives, or the response of the error it throws.
    public static func catching(_ work: () throws -> Reply) -> Reply {
        do { return try work() } catch { return .response(Self.response(for: error)) }
    }

    static func response(for error: any Error) -> Response {
        (error as? HTTPError)?.response ?? HTTPError(.internalServerError, "internal error: \(error)").response
    }

    /// The final response, making the calls on this thread with `client` (blocking): for workers and tests.
    public func resolved(with client: HTTPClient) -> Response {
        var reply = self
        while true {
            switch reply {
            case .response(let response):
                return response
            case .calls(let calls, let then):
                let results = client.perform(calls)
                reply = Self.catching { try then(results) }
            case .blocking(let work):
                reply = Self.catching(work)
            }
        }
    }
}
