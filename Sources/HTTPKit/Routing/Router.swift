#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import SystemKit

/// Handles one request.
public typealias Handler = @Sendable (Request) throws -> Response

/// Handles one request that may call upstreams first (see `Reply`).
public typealias ReplyHandler = @Sendable (Request) throws -> Reply

/// What a server asks of each request, once: `route` decides where it is answered and by what (on the event loop,
/// as it arrives); `reply(to:)` answers it, on the thread that decision named.
public protocol Responder: Sendable {
    func route(_ request: consuming Request) -> Router.Routed
    func reply(to routed: Router.Routed) -> Reply
}

extension Responder {
    public func reply(to routed: Router.Routed) -> Reply { routed.reply() }
}

/// Wraps the handling of every request: it may change the request, change the response, or answer itself
/// without calling `next`. The first middleware added is the outermost.
public typealias Middleware = @Sendable (_ request: Request, _ next: Handler) throws -> Response

/// Method and path-pattern routing: `/reviews/:id` captures `id`, a final `*rest` captures the remaining path.
/// Unknown paths get 404, a known path with another method 405 and `Allow`; HEAD falls back to GET and OPTIONS
/// is answered from the routes. The matched pattern is set as `request.route`.
public struct Router: Responder {
    /// Where a handler runs. `inline` handlers run on the event loop and must never block (no I/O, no sleep):
    /// constant replies and in-memory work. `blocking` handlers (the default) run on the worker pool.
    public enum Execution: Sendable {
        case inline
        case blocking
    }

    enum Segment: Sendable, Equatable {
        case literal([UInt8])
        case parameter(String)
        case rest(String)
    }

    /// A class: matching walks every route per request, and a reference is one retain where the fields are five.
    final class Route: Sendable {
        /// Its position among the routes, for tables kept per route (`RequestMetrics`).
        let index: Int
        let method: HTTPMethod
        let pattern: String
        let segments: [Segment]
        /// How many segments a path needs to match, when the pattern has no `*rest`.
        let fixedSegmentCount: Int?
        let execution: Execution
        let handler: ReplyHandler
        /// Registered as a `ReplyHandler`: it may ask for upstream calls.
        let replies: Bool

        init(
            index: Int, method: HTTPMethod, pattern: String, segments: [Segment], execution: Execution,
            handler: @escaping ReplyHandler, replies: Bool
        ) {
            self.index = index
            self.method = method
            self.pattern = pattern
            self.segments = segments
            fixedSegmentCount = segments.contains { if case .rest = $0 { true } else { false } } ? nil : segments.count
            self.execution = execution
            self.handler = handler
            self.replies = replies
        }
    }

    private var routes: [Route] = []
    private var middleware: [Middleware] = []
    private var middlewareBlocks = false
    /// Answers paths no route matches.
    public var notFound: Handler = { request in
        throw HTTPError(.notFound, "no route for \(request.method) \(request.path)")
    }

    public init() {}

    public mutating func add(
        _ method: HTTPMethod, _ pattern: String, execution: Execution = .blocking, _ handler: @escaping Handler
    ) {
        add(method, pattern, execution: execution, replies: false) { .response(try handler($0)) }
    }

    /// A route whose handler answers with a `Reply`. It runs on the event loop by default: its upstream calls
    /// do not block, and neither may the handler nor its `then` steps (use `Reply.blocking` for what must wait).
    @_disfavoredOverload
    public mutating func add(
        _ method: HTTPMethod, _ pattern: String, execution: Execution = .inline, reply handler: @escaping ReplyHandler
    ) {
        add(method, pattern, execution: execution, replies: true, handler)
    }

    private mutating func add(
        _ method: HTTPMethod, _ pattern: String, execution: Execution, replies: Bool, _ handler: @escaping ReplyHandler
    ) {
        let segments = pattern.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map {
            part -> Segment in
            if part.hasPrefix(":") { return .parameter(String(part.dropFirst())) }
            if part.hasPrefix("*") { return .rest(String(part.dropFirst())) }
            return .literal(Array(part.utf8))
        }
        // Two routes for one method and pattern: the second could never answer. Refused when the router is built.
        precondition(
            !routes.contains { $0.method == method && $0.pattern == pattern },
            "route \(method) \(pattern) is added twice")
        routes.append(
            Route(
                index: routes.count, method: method, pattern: pattern, segments: segments, execution: execution,
                handler: handler, replies: replies))
    }

    public mutating func get(_ pattern: String, execution: Execution = .blocking, _ handler: @escaping Handler) {
        add(.get, pattern, execution: execution, handler)
    }
    public mutating func post(_ pattern: String, execution: Execution = .blocking, _ handler: @escaping Handler) {
        add(.post, pattern, execution: execution, handler)
    }
    public mutating func put(_ pattern: String, execution: Execution = .blocking, _ handler: @escaping Handler) {
        add(.put, pattern, execution: execution, handler)
    }
    public mutating func delete(_ pattern: String, execution: Execution = .blocking, _ handler: @escaping Handler) {
        add(.delete, pattern, execution: execution, handler)
    }
    @_disfavoredOverload
    public mutating func get(_ pattern: String, execution: Execution = .inline, reply handler: @escaping ReplyHandler) {
        add(.get, pattern, execution: execution, reply: handler)
    }
    @_disfavoredOverload
    public mutating func put(_ pattern: String, execution: Execution = .inline, reply handler: @escaping ReplyHandler) {
        add(.put, pattern, execution: execution, reply: handler)
    }
    @_disfavoredOverload
    public mutating func delete(
        _ pattern: String, execution: Execution = .inline, reply handler: @escaping ReplyHandler
    ) {
        add(.delete, pattern, execution: execution, reply: handler)
    }

    /// Adds middleware around every route; `blocking` middleware sends every request to the worker pool. Middleware
    /// sees final responses, so routes that reply with upstream calls run on the worker pool when there is any.
    public mutating func use(blocking: Bool = false, _ middleware: @escaping Middleware) {
        self.middleware.append(middleware)
        if blocking { middlewareBlocks = true }
    }

    /// How many routes there are; `Routed.routeIndex` is below it.
    public var routeCount: Int { routes.count }

    /// Whether any route answers with a `Reply` (and may call upstreams from the event loop).
    public var callsUpstreams: Bool { routes.contains { $0.replies } }

    /// The route pattern that would handle this path, whatever the method.
    public func routePattern(for path: String) -> String? {
        Self.withBytes(of: path) { path in routes.first { Self.match($0.segments, path) != nil }?.pattern }
    }

    /// Answers a request, making any upstream calls on this thread; a thrown `HTTPError` becomes its response,
    /// any other error a 500.
    public func respond(to request: Request, client: HTTPClient = .shared) -> Response {
        route(request).reply().resolved(with: client)
    }

    /// The server's one question per request: the route is matched once, and the answer says where the handler
    /// runs and runs it when asked. The request keeps only what it is (its route pattern and parameters).
    public func route(_ request: consuming Request) -> Routed {
        let (handler, route, routeIndex) = resolve(&request)
        let execution: Execution =
            if middlewareBlocks {
                .blocking
            } else if let route {
                route.replies && !middleware.isEmpty ? .blocking : route.execution
            } else {
                .inline
            }
        return Routed(
            execution: execution, route: request.route, routeIndex: routeIndex, request: request, handler: handler,
            middleware: middleware)
    }

    /// A routed request: where its handler runs, the pattern and index of the route that matched (for 405 and
    /// OPTIONS answers too: the path matched, the method did not), and the request with its parameters.
    public struct Routed: Sendable {
        public let execution: Execution
        public let route: String?
        public let routeIndex: Int?
        public let request: Request
        let handler: ReplyHandler
        let middleware: [Middleware]

        /// Runs the handler on this thread; errors it throws now are responses, later steps catch their own.
        public func reply() -> Reply { Router.run(handler, request, middleware) }
    }

    static func run(_ handler: @escaping ReplyHandler, _ request: Request, _ middleware: [Middleware]) -> Reply {
        guard !middleware.isEmpty else { return Reply.catching { try handler(request) } }
        var chain: Handler = { request in
            do { return try handler(request).resolved(with: .shared) } catch let error as HTTPError {
                return error.response
            }
        }
        for outer in middleware.reversed() {
            let inner = chain
            chain = { try outer($0, inner) }
        }
        return .response(Reply.catching { .response(try chain(request)) }.resolved(with: .shared))
    }

    /// Finds the handler, and the route when one matched, and fills in `route` and `parameters`: one pass over
    /// the routes. A HEAD request falls back to the GET route of its path.
    func resolve(_ request: inout Request) -> (handler: ReplyHandler, route: Route?, routeIndex: Int?) {
        typealias Match = (route: Route, parameters: [(name: String, value: String?)])
        let method = request.method
        let (exact, fallback, found, firstMatched) = Self.withBytes(of: request.path) {
            path -> (Match?, Match?, [HTTPMethod], Route?) in
            var allowed: [HTTPMethod] = []
            var fallback: Match?
            var firstMatched: Route?
            let segmentCount = Self.segmentCount(path)
            for route in routes {
                if let fixed = route.fixedSegmentCount, fixed != segmentCount { continue }
                guard let parameters = Self.match(route.segments, path) else { continue }
                if route.method == method { return ((route, parameters), nil, [], nil) }
                if firstMatched == nil { firstMatched = route }
                if method == .head, route.method == .get, fallback == nil { fallback = (route, parameters) }
                if !allowed.contains(route.method) { allowed.append(route.method) }
            }
            return (nil, fallback, allowed, firstMatched)
        }
        if let (route, parameters) = exact ?? fallback {
            return (bind(route, parameters, &request), route, route.index)
        }
        var allowed = found
        guard !allowed.isEmpty else {
            let notFound = self.notFound
            return ({ .response(try notFound($0)) }, nil, nil)
        }
        request.route = firstMatched?.pattern
        let routeIndex = firstMatched?.index
        if allowed.contains(.get), !allowed.contains(.head) { allowed.append(.head) }
        allowed.append(.options)
        let allow = allowed.map(\.rawValue).joined(separator: ", ")
        if request.method == .options {
            return ({ _ in .response(Response(status: .noContent, headers: ["Allow": allow])) }, nil, routeIndex)
        }
        return (
            { request in
                throw HTTPError(
                    .methodNotAllowed, "method \(request.method) not allowed for \(request.path)",
                    headers: ["Allow": allow])
            }, nil, routeIndex
        )
    }

    private func bind(_ route: Route, _ parameters: [(name: String, value: String?)], _ request: inout Request)
        -> ReplyHandler
    {
        request.route = route.pattern
        var decoded: [(name: String, value: String)] = []
        decoded.reserveCapacity(parameters.count)
        for (name, value) in parameters {
            guard let value else {
                return { _ in throw HTTPError(.badRequest, "invalid percent-encoding in path parameter \(name)") }
            }
            decoded.append((name, value))
        }
        request.parameters = decoded
        return route.handler
    }

    /// Runs `body` with the path's bytes, once for all the routes it is matched against.
    static func withBytes<T>(of path: String, _ body: (UnsafeBufferPointer<UInt8>) -> T) -> T {
        var path = path
        return path.withUTF8(body)
    }

    /// How many segments `match` sees in the path: one after each `/`, and one before the first when the path
    /// does not start with `/`.
    static func segmentCount(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var slashes = 0
        for byte in bytes where byte == UInt8(ascii: "/") { slashes += 1 }
        return bytes.first == UInt8(ascii: "/") ? slashes : slashes + 1
    }

    /// Parameters (nil values are undecodable) if the segments match.
    static func match(_ segments: [Segment], _ bytes: UnsafeBufferPointer<UInt8>) -> [(name: String, value: String?)]? {
        var parameters: [(name: String, value: String?)] = []
        // Each segment starts after a `/`; `position > bytes.count` once the last one is used up.
        var position = bytes.first == UInt8(ascii: "/") ? 1 : 0
        for segment in segments {
            guard position <= bytes.count else { return nil }
            if case .rest(let name) = segment {
                parameters.append((name, URI.percentDecode(bytes: UnsafeBufferPointer(rebasing: bytes[position...]))))
                return parameters
            }
            var end = position
            while end < bytes.count, bytes[end] != UInt8(ascii: "/") { end += 1 }
            let part = UnsafeBufferPointer(rebasing: bytes[position..<end])
            switch segment {
            case .literal(let text):
                guard part.count == text.count,
                    part.isEmpty
                        || text.withUnsafeBufferPointer({ memcmp($0.baseAddress!, part.baseAddress!, part.count) == 0 })
                else { return nil }
            case .parameter(let name):
                guard !part.isEmpty else { return nil }
                parameters.append((name, URI.percentDecode(bytes: part)))
            case .rest:
                break
            }
            position = end + 1
        }
        return position > bytes.count ? parameters : nil
    }
}
