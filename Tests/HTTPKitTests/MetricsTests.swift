#if canImport(Glibc)
import Glibc
#endif
@testable import HTTPKit
import Testing
import TestSupport
@testable import SystemKit
@testable import ServiceKit

@Suite struct MetricsTests {
    @Test func procStatFieldsAreReadAfterACommandNameWithSpaces() throws {
        let text =
            "4242 (my (odd) svc) S 1 4242 4242 0 -1 4194560 500 0 0 0 250 125 0 0 20 0 9 0 7000 "
            + "221147136 3116 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0\n"
        let stat = try #require(ProcessMetrics.Stat.parse(text))
        #expect(stat.userTicks == 250 && stat.systemTicks == 125)
        #expect(stat.startTicks == 7000 && stat.virtualBytes == 221_147_136 && stat.residentPages == 3116)
        #expect(ProcessMetrics.Stat.parse("4242 (cut short) S 1 2") == nil)
    }

    /// The process metrics of the standard client libraries, and the info metric, with values that make sense.
    @Test func contextExportsProcessAndInfoMetrics() throws {
        let context = try ServiceContext(testing: "details", table: [])
        var spin = 0.0
        for i in 0..<3_000_000 { spin += Double(i).squareRoot() }
        #expect(spin > 0)
        let text = context.metrics.render()
        func value(_ name: String) throws -> Double {
            let line = try #require(text.split(separator: "\n").first { $0.hasPrefix(name + " ") }, "\(name)")
            return try #require(Double(line.split(separator: " ")[1]))
        }
        #expect(text.contains(#"service_info{app="details",version="test",build="dev"} 1"#))
        #expect(text.contains("# TYPE process_cpu_seconds_total counter"))
        #expect(try value("process_cpu_seconds_total") > 0)
        #expect(try value("process_resident_memory_bytes") > 1_000_000)
        #expect(try value("process_virtual_memory_bytes") >= value("process_resident_memory_bytes"))
        #expect(try value("process_open_fds") >= 3)
        #expect(try value("process_open_fds") <= value("process_max_fds"))
        let now = Double(time(nil))
        #expect(try value("process_start_time_seconds") > now - 24 * 3600)
        #expect(try value("process_start_time_seconds") <= now + 1)
    }

    @Test func registryRendersCountersAndCumulativeHistograms() {
        let registry = MetricsRegistry()
        let hits = registry.counter("hits_total", "Hits", labels: ["path"])
        let latency = registry.histogram("latency_seconds", "Latency", buckets: [0.1, 1])
        hits.increment(["/a"])
        hits.increment(["/b"], by: 2)
        hits.increment(["/a"])
        hits.increment(["say \"hi\"\n"])
        latency.observe(0.05)
        latency.observe(0.5)
        latency.observe(3)
        let text = registry.render()
        #expect(text.contains("# HELP hits_total Hits\n# TYPE hits_total counter\n"))
        #expect(text.contains("hits_total{path=\"/a\"} 2\nhits_total{path=\"/b\"} 2\n"))
        #expect(text.contains(#"hits_total{path="say \"hi\"\n"} 1"#))
        #expect(
            text.contains(
                """
                latency_seconds_bucket{le="0.1"} 1
                latency_seconds_bucket{le="1"} 2
                latency_seconds_bucket{le="+Inf"} 3
                latency_seconds_sum 3.55
                latency_seconds_count 3
                """))
    }

    /// The server's own series, kept per route and method: a 405 counts under the pattern its path matched,
    /// a path no route matches under `unmatched`, a method outside the common ones as `other`.
    @Test func serverSeriesAreLabelledByMethodRouteAndCode() throws {
        var router = Router()
        router.get("/items/:id", execution: .inline) { _ in .text("item") }
        let context = try ServiceContext(testing: "metrics", table: [])
        let responder = ServiceRunner.makeResponder(router: router, context: context)
        func send(_ method: HTTPMethod, _ target: String) -> Int {
            guard
                case .response(let response) = responder.reply(
                    to: responder.route(Request(method: method, target: target, headers: ["Host": "t"])))
            else {
                Issue.record("expected a response")
                return 0
            }
            return response.status.code
        }
        #expect(send(.get, "/items/1") == 200)
        #expect(send(.get, "/items/2") == 200)
        #expect(send(.post, "/items/1") == 405)
        #expect(send(.get, "/nothing") == 404)
        #expect(send(HTTPMethod("BREW"), "/items/3") == 405)
        let text = context.metrics.render()
        #expect(text.contains(#"http_server_requests_total{method="GET",route="/items/:id",code="200"} 2"#))
        #expect(text.contains(#"http_server_requests_total{method="POST",route="/items/:id",code="405"} 1"#))
        #expect(text.contains(#"http_server_requests_total{method="GET",route="unmatched",code="404"} 1"#))
        #expect(text.contains(#"http_server_requests_total{method="other",route="/items/:id",code="405"} 1"#))
        #expect(text.contains(#"http_server_request_duration_seconds_count{method="GET",route="/items/:id"} 2"#))
        #expect(
            text.contains(#"http_server_request_duration_seconds_bucket{method="GET",route="unmatched",le="+Inf"} 1"#))
    }

    /// Outbound calls counted by upstream and result, the series kept per upstream.
    @Test func upstreamCallsAreCountedByResult() throws {
        let server = try TestServer(router: echoRouter())
        defer { server.stop() }
        let context = try ServiceContext(testing: "metrics", table: [])
        let echo = try context.upstream("echo", baseURL: server.baseURL, setting: "ECHO_URL")
        #expect(try echo.call(.get, "/echo/a", timeout: 2).status.code == 200)
        #expect(try echo.call(.get, "/echo/b", timeout: 2).status.code == 200)
        #expect(try echo.call(.get, "/nothing", timeout: 2).status.code == 404)
        let closed = try context.upstream("closed", baseURL: "http://127.0.0.1:\(freePort())", setting: "CLOSED_URL")
        #expect(throws: HTTPClientError.self) { try closed.call(.get, "/", timeout: 2) }
        let text = context.metrics.render()
        #expect(text.contains(#"http_client_requests_total{upstream="echo",code="200"} 2"#))
        #expect(text.contains(#"http_client_requests_total{upstream="echo",code="404"} 1"#))
        #expect(text.contains(#"http_client_requests_total{upstream="closed",code="refused"} 1"#))
        #expect(text.contains(#"http_client_request_duration_seconds_count{upstream="echo"} 3"#))
    }
}
