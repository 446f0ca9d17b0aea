import HTTPKit
import Testing
import SystemKit
import ServiceKit

@Suite struct RouterTests {
    let router: Router = {
        var router = Router()
        router.get("/reviews/:id") { .text("review \(try $0.parameter("id"))") }
        router.post("/reviews/:id") { _ in .text("posted", status: .created) }
        router.get("/static/*path") { .text("file \(try $0.parameter("path"))") }
        router.get("/") { _ in .text("root") }
        router.use { request, next in
            var response = try next(request)
            response.headers.add("X-Route", request.route ?? "none")
            return response
        }
        return router
    }()

    func send(_ method: HTTPMethod, _ target: String) -> Response {
        router.respond(to: Request(method: method, target: target))
    }

    @Test func parametersAreDecoded() {
        let response = send(.get, "/reviews/a%20b")
        #expect(response.bodyText == "review a b")
        #expect(response.headers["X-Route"] == "/reviews/:id")
    }

    /// Routes are only tried against paths with as many segments (the pre-check must not drop a match).
    @Test func pathsMatchPatternsWithTheirSegmentCount() {
        var router = Router()
        for pattern in ["/", "/a", "/a/", "/a/:id", "/a/:id/b", "/s/*rest"] {
            router.get(pattern, execution: .inline) { request in .text(request.route ?? "none") }
        }
        let expected: [(String, String?)] = [
            ("/", "/"), ("/a", "/a"), ("/a/", "/a/"), ("/a/7", "/a/:id"), ("/a/7/b", "/a/:id/b"), ("/a/7/c", nil),
            ("/a/7/b/", nil), ("/s/", "/s/*rest"), ("/s/x/y/z", "/s/*rest"), ("/b", nil), ("//", nil),
        ]
        for (path, pattern) in expected {
            let response = router.respond(to: Request(method: .get, target: path))
            if let pattern {
                #expect(response.bodyText == pattern, "\(path)")
            } else {
                #expect(response.status == .notFound, "\(path)")
            }
        }
    }

    @Test func restCapturesTheRemainingPath() {
        #expect(send(.get, "/static/img/a.png").bodyText == "file img/a.png")
    }

    @Test func unknownPathIs404() {
        #expect(send(.get, "/nope").status == .notFound)
        #expect(send(.get, "/reviews/1/extra").status == .notFound)
        #expect(send(.get, "/reviews/").status == .notFound)
    }

    @Test func otherMethodIs405WithAllow() {
        let response = send(.delete, "/reviews/1")
        #expect(response.status == .methodNotAllowed)
        #expect(response.headers["Allow"] == "GET, POST, HEAD, OPTIONS")
        #expect(response.headers["X-Route"] == "/reviews/:id")
    }

    @Test func headFallsBackToGetAndOptionsListsMethods() {
        #expect(send(.head, "/").bodyText == "root")
        let options = send(.options, "/reviews/1")
        #expect(options.status == .noContent)
        #expect(options.headers["Allow"]?.contains("POST") == true)
    }

    @Test func badPercentEncodingIs400() {
        #expect(send(.get, "/reviews/%zz").status == .badRequest)
    }

    @Test func eventLoopsByWhatTheServiceDoesUnlessSet() {
        #expect(ServerSettings.eventLoops("", cpus: 1, callsUpstreams: false) == 1)
        #expect(ServerSettings.eventLoops("", cpus: 2, callsUpstreams: false) == 1)
        #expect(ServerSettings.eventLoops("", cpus: 8, callsUpstreams: false) == 7)
        #expect(ServerSettings.eventLoops("", cpus: 2, callsUpstreams: true) == 2)
        #expect(ServerSettings.eventLoops("3", cpus: 1, callsUpstreams: false) == 3)
        var leaf = Router()
        leaf.get("/a", execution: .inline) { _ in .text("a") }
        #expect(!leaf.callsUpstreams)
        leaf.get("/b", reply: { _ in .response(.text("b")) })
        #expect(leaf.callsUpstreams)
    }

    /// The server asks once: the answer says where the handler runs, names the route, and runs the handler only
    /// when its reply is asked for.
    @Test func routingDecidesOnceAndRunsTheHandlerWhenAsked() {
        let calls = Lock(0)
        var router = Router()
        router.get("/inline/:id", execution: .inline) { _ in
            calls.withLock { $0 += 1 }
            return .text("inline")
        }
        router.get("/blocking") { _ in .text("blocking") }
        router.post("/blocking") { _ in .text("posted") }
        let inline = router.route(Request(method: .get, target: "/inline/7"))
        #expect(inline.execution == .inline && inline.route == "/inline/:id" && inline.routeIndex == 0)
        #expect(calls.withLock { $0 } == 0)
        #expect(inline.reply().resolved(with: .shared).bodyText == "inline")
        #expect(calls.withLock { $0 } == 1)
        let blocking = router.route(Request(method: .post, target: "/blocking"))
        #expect(blocking.execution == .blocking && blocking.routeIndex == 2)
        let refused = router.route(Request(method: .delete, target: "/blocking"))
        #expect(refused.execution == .inline && refused.route == "/blocking" && refused.routeIndex == 1)
        #expect(refused.reply().resolved(with: .shared).status.code == 405)
        let unknown = router.route(Request(method: .get, target: "/nowhere"))
        #expect(unknown.execution == .inline && unknown.route == nil && unknown.routeIndex == nil)
    }

    @Test func aSecondRouteForTheSameMethodAndPatternStopsTheBuild() async {
        var router = Router()
        router.get("/a") { _ in .text("get") }
        router.post("/a") { _ in .text("post") }  // another method: fine
        #expect(router.respond(to: Request(method: .post, target: "/a")).bodyText == "post")
        await #expect(processExitsWith: .failure) {
            var router = Router()
            router.get("/a") { _ in .text("one") }
            router.get("/a") { _ in .text("two") }
        }
    }

    @Test func thrownHTTPErrorBecomesOneLineJSON() {
        var router = Router()
        router.get("/x") { _ in throw HTTPError(.conflict, "it \"clashed\"") }
        let response = router.respond(to: Request(method: .get, target: "/x"))
        #expect(response.status.code == 409)
        #expect(response.bodyText == #"{"error":"it \"clashed\""}"#)
    }
}

extension HTTPStatus {
    static let conflict = HTTPStatus(code: 409)
}
