import Foundation
import HTTPKit
import SystemKit
import ServiceKit

/// How a service runs under test, in the spirit of Hummingbird's test modes: its router called in this process,
/// the same router served on a socket by HTTPKit, or the built executable as a process of its own.
public enum TestMode: String, Sendable, CaseIterable {
    case router, live, process
}

/// A service under test in one mode, with the same calls in each: what a test sends and checks does not depend on
/// how the service runs. All three add the runtime routes (`/health`, `/ready`, `/metrics`) and request metrics.
public final class ServiceUnderTest: @unchecked Sendable {
    public let mode: TestMode
    /// The service's context (router and live modes; the process has its own).
    public let context: ServiceContext?
    private let responder: ServiceResponder?
    private let server: HTTPServer?
    private let process: ServiceProcess?
    private let client = HTTPClient()

    /// - Parameter environment: the service's settings, as a process would get them.
    public init(
        _ definition: ServiceRunner.Definition, _ mode: TestMode = .router, _ environment: [String: String] = [:]
    )
        throws
    {
        self.mode = mode
        switch mode {
        case .router, .live:
            let context = try ServiceContext(
                testing: definition.name, table: definition.table,
                environment: ["PORT": "0", "HTTP_SERVER_HOST": "127.0.0.1"].merging(environment) { $1 })
            let router = try definition.build(context)
            self.context = context
            if mode == .router {
                responder = ServiceRunner.makeResponder(router: router, context: context)
                server = nil
            } else {
                let server = ServiceRunner.makeServer(router: router, context: context)
                try server.start()
                responder = nil
                self.server = server
            }
            process = nil
        case .process:
            context = nil
            responder = nil
            server = nil
            process = try ServiceProcess(definition.name, environment)
        }
    }

    /// The port a live or process service listens on (0 in process).
    public var port: Int { server?.port ?? process?.port ?? 0 }

    /// Where a live or process service listens.
    public var baseURL: String {
        if let server { return "http://127.0.0.1:\(server.port)" }
        return process?.baseURL ?? "in-process"
    }

    /// Sends the request and returns the response; a service that cannot be reached is a 599 with the reason.
    public func respond(to request: Request) -> Response {
        if let responder {
            var request = request
            request.remoteAddress = "127.0.0.1"
            return responder.reply(to: responder.route(request)).resolved(with: context?.client ?? .shared)
        }
        let target = request.path + (request.query.isEmpty ? "" : "?" + request.query)
        do {
            let answer = try client.request(
                request.method, baseURL + target, headers: request.headers, body: request.body, timeout: 15)
            return Response(status: answer.status, headers: answer.headers, body: answer.body)
        } catch {
            return .text("\(error)", status: HTTPStatus(code: 599))
        }
    }

    public func get(_ target: String, headers: HTTPHeaders = [:]) -> Response {
        respond(to: Request(method: .get, target: target, headers: headers))
    }

    public func stop() {
        server?.shutdown(timeout: 2)
        process?.stop()
    }

    deinit { stop() }
}

/// `service.get(target)`, the form the service tests read best in.
public func get(_ service: ServiceUnderTest, _ target: String, headers: HTTPHeaders = [:]) -> Response {
    service.get(target, headers: headers)
}
