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
