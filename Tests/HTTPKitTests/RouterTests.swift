import HTTPKit
import Testing

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

@Suite struct SettingsTests {
    let table = ServerSettings.table + [Setting("FLAG", "false", "a flag", .boolean), Setting("WAIT", "3s", "a wait", .duration)]

    @Test func aServiceEntryReplacesTheSharedOneInPlace() throws {
        let own = [Setting("EXTRA", "x", "its own", .required), Setting("HTTP_SERVER_EVENT_LOOPS", "1", "one here", .optional(.integer(1...64)))]
        let merged = ServerSettings.table(with: own)
        #expect(merged.map(\.name) == ServerSettings.table.map(\.name) + ["EXTRA"])
        #expect(merged.first { $0.name == "HTTP_SERVER_EVENT_LOOPS" }?.defaultValue == "1")
        #expect(try Settings(table: merged, environment: [:]).int("HTTP_SERVER_EVENT_LOOPS") == 1)
        #expect(try Settings(table: merged, environment: ["HTTP_SERVER_EVENT_LOOPS": "4"]).int("HTTP_SERVER_EVENT_LOOPS") == 4)
        #expect(Settings.helpText(service: "s", summary: "t", table: merged).components(separatedBy: "HTTP_SERVER_EVENT_LOOPS").count == 2)
    }

    @Test func booleansAreTrueOrFalseInAnyCase() throws {
        for (text, value) in [("true", true), ("TRUE", true), ("False", false), ("false", false)] {
            #expect(try Settings(table: table, environment: ["FLAG": text]).bool("FLAG") == value)
        }
        for text in ["yes", "1", "0", "on", "", "maybe"] {
            #expect(throws: ConfigError.self, "FLAG=\(text)") { try Settings(table: table, environment: ["FLAG": text]) }
        }
    }

    @Test func aSecretIsShownOnlyAsSetOrNot() throws {
        let secret = [Setting("KEY", "published-default", "a key", .required, secret: true), Setting("TOKEN", "", "a token", secret: true)]
        let given = try Settings(table: secret, environment: ["KEY": "hunter2-real", "TOKEN": ""])
        #expect(given.json.serialized() == #"{"KEY":"set","TOKEN":"unset"}"#)
        #expect(!given.isDefaultSecret("KEY"))
        let defaulted = try Settings(table: secret, environment: [:])
        #expect(defaulted.json.serialized() == #"{"KEY":"built-in default","TOKEN":"unset"}"#)
        #expect(defaulted.isDefaultSecret("KEY"))
        #expect(try Settings(table: secret, environment: ["KEY": "placeholder"]).isDefaultSecret("KEY", placeholder: "placeholder"))
        let help = Settings.helpText(service: "s", summary: "t", table: secret)
        #expect(!help.contains("published-default"))
        #expect(help.contains("KEY (secret string, default built in, not shown)"))
        let refused = #expect(throws: ConfigError.self) {
            try Settings(table: [Setting("PIN", "1234", "a pin", .integer(0...9999), secret: true)], environment: ["PIN": "secret-pin-text"])
        }
        #expect(refused.map { !$0.description.contains("secret-pin-text") && $0.description.contains("PIN") } == true)
    }

    @Test func defaultsEnvironmentAndPortArgument() throws {
        let settings = try Settings(table: table, environment: ["FLAG": "true", "PORT": "8000"], arguments: ["7000"])
        #expect(settings.bool("FLAG"))
        #expect(settings.int("PORT") == 7000)
        #expect(settings.seconds("WAIT") == 3)
        #expect(try Settings(table: table, environment: [:], arguments: ["--port", "81"]).int("PORT") == 81)
        #expect(try Settings(table: table, environment: ["WAIT": "250ms"]).seconds("WAIT") == 0.25)
    }

    @Test(arguments: [("PORT", "99999"), ("FLAG", "maybe"), ("WAIT", "soon"), ("HTTP_SERVER_MAX_BODY_BYTES", "-1")])
    func badValuesNameTheVariable(_ name: String, _ value: String) {
        do {
            _ = try Settings(table: table, environment: [name: value])
            Issue.record("accepted \(name)=\(value)")
        } catch let error as ConfigError {
            #expect(error.variable == name)
            #expect(error.description.contains(value))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func helpListsEverySetting() {
        let help = Settings.helpText(service: "svc", summary: "a service", table: table)
        for setting in table { #expect(help.contains(setting.name)) }
        #expect(help.hasPrefix("svc: a service\n\nUsage: svc [PORT]"))
    }

    @Test func serviceExitsTwoOnBadSetting() {
        let definition = ServiceRunner.Definition(name: "svc", summary: "s", table: []) { _ in Router() }
        var errors = ""
        #expect(ServiceRunner.main(definition, arguments: [], environment: ["HTTP_SERVER_IDLE_TIMEOUT": "x"]) { errors += $0 } == 2)
        #expect(errors.hasPrefix("svc: configuration error: HTTP_SERVER_IDLE_TIMEOUT must be a duration"))
        errors = ""
        #expect(ServiceRunner.main(definition, arguments: ["--bogus"], environment: [:]) { errors += $0 } == 2)
        #expect(errors.hasPrefix("svc: configuration error: --bogus is not a known option"))
    }
}

@Suite struct PropagationAndMetricsTests {
    @Test func copiesTheListVerbatimAndReplacesEndUser() {
        let incoming: HTTPHeaders = [
            "X-Request-Id": "r1", "X-B3-TraceId": "80f198ee56343ba8", "x-b3-flags": "1", "traceparent": "00-abc-def-01",
            "User-Agent": "ua", "end-user": "mallory", "X-Other": "no", "b3": "a-b-1",
        ]
        let out = HeaderPropagation.outgoing(from: incoming, endUser: .some("jason"))
        #expect(out["x-request-id"] == "r1")
        #expect(out["x-b3-traceid"] == "80f198ee56343ba8")
        #expect(out["x-b3-flags"] == "1")
        #expect(out["b3"] == "a-b-1")
        #expect(out["user-agent"] == "ua")
        #expect(out.values("end-user") == ["jason"])
        #expect(out["x-other"] == nil)
        #expect(HeaderPropagation.outgoing(from: incoming)["end-user"] == "mallory")
        #expect(HeaderPropagation.outgoing(from: incoming, endUser: .some(nil))["end-user"] == nil)
    }

    @Test func cookiesByName() {
        let headers: HTTPHeaders = ["Cookie": "a=1; session=x.y ;b=2", "cookie": "session=z"]
        #expect(headers.cookies(named: "session") == ["x.y", "z"])
        #expect(headers.cookies(named: "c").isEmpty)
    }

    @Test func writerRejectsHeaderInjection() {
        var response = Response.text("x")
        response.headers.add("X-Bad", "a\r\nSet-Cookie: evil=1")
        #expect(throws: MessageWriter.InvalidHeader.self) {
            try MessageWriter.response(response, keepAlive: true)
        }
        #expect(throws: MessageWriter.InvalidHeader.self) {
            try MessageWriter.request(method: .get, target: "/", host: "h", headers: ["X": "a\nb"], body: [], keepAlive: true)
        }
    }

    @Test func headResponseKeepsLengthWithoutBody() throws {
        let bytes = try MessageWriter.response(.text("hello"), keepAlive: true, isHead: true)
        #expect(String(decoding: bytes, as: UTF8.self) == "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 5\r\n\r\n")
    }
}
