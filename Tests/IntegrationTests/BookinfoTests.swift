import Foundation
import Synchronization
import HTTPKit
import Testing
import TestSupport
import SystemKit
import ServiceKit

/// The real binaries, wired by their real environment variables; recording proxies sit in front of details,
/// reviews v2 and ratings to see which headers arrive.
final class Bookinfo: @unchecked Sendable {
    let ratings: ServiceProcess
    let details: ServiceProcess
    let reviews: [String: ServiceProcess]
    let ratingsProxy: RecordingProxy
    let detailsProxy: RecordingProxy
    let reviewsProxy: RecordingProxy
    let pages: [String: ServiceProcess]

    init() throws {
        ratings = try ServiceProcess("ratings")
        details = try ServiceProcess("details")
        let ratingsPort = ratings.port, detailsPort = details.port
        ratingsProxy = try RecordingProxy { "http://127.0.0.1:\(ratingsPort)" }
        detailsProxy = try RecordingProxy { "http://127.0.0.1:\(detailsPort)" }
        var reviews: [String: ServiceProcess] = [:]
        for version in ["v1", "v2", "v3"] {
            reviews[version] = try ServiceProcess(
                "reviews",
                [
                    "SERVICE_VERSION": version, "RATINGS_HOSTNAME": "127.0.0.1",
                    "RATINGS_SERVICE_PORT": String(ratingsProxy.port),
                    "HOSTNAME": "reviews-\(version)-pod",
                ])
        }
        self.reviews = reviews
        let v2Port = reviews["v2"]!.port
        reviewsProxy = try RecordingProxy { "http://127.0.0.1:\(v2Port)" }
        var pages: [String: ServiceProcess] = [:]
        for version in ["v1", "v2", "v3"] {
            let reviewsPort = version == "v2" ? reviewsProxy.port : reviews[version]!.port
            pages[version] = try ServiceProcess(
                "productpage",
                [
                    "DETAILS_HOSTNAME": "127.0.0.1", "DETAILS_SERVICE_PORT": String(detailsProxy.port),
                    "REVIEWS_HOSTNAME": "127.0.0.1", "REVIEWS_SERVICE_PORT": String(reviewsPort),
                    "RATINGS_HOSTNAME": "127.0.0.1", "RATINGS_SERVICE_PORT": String(ratingsProxy.port),
                ])
        }
        self.pages = pages
    }

    /// A productpage that spreads its reviews calls over the three versions in turn, as run-local.sh starts it.
    func roundRobinPage() throws -> ServiceProcess {
        let endpoints = ["v1", "v2", "v3"].map { "127.0.0.1:\(reviews[$0]!.port)" }.joined(separator: ",")
        return try ServiceProcess(
            "productpage",
            [
                "DETAILS_HOSTNAME": "127.0.0.1", "DETAILS_SERVICE_PORT": String(details.port),
                "REVIEWS_ENDPOINTS": endpoints,
            ])
    }

    func stop() {
        for process in Array(pages.values) + Array(reviews.values) + [details, ratings] { process.stop() }
        for proxy in [ratingsProxy, detailsProxy, reviewsProxy] { proxy.stop() }
    }
}

@Suite(.serialized) struct BookinfoTests {
    let client = HTTPClient()

    @Test func eachReviewsVersionShowsItsStars() throws {
        let bookinfo = try Bookinfo()
        defer { bookinfo.stop() }
        for (version, stars, color) in [("v1", 0, ""), ("v2", 9, "text-black-500"), ("v3", 9, "text-red-500")] {
            let page = try client.get(bookinfo.pages[version]!.baseURL + "/productpage", timeout: 5)
            #expect(page.status == .ok)
            let html = page.bodyText
            #expect(html.contains("<title>Simple Bookstore App</title>"))
            #expect(html.contains("Book Details"))
            #expect(html.contains("Reviews served by: <span id=\"podname\">reviews-\(version)-pod</span>"))
            #expect(occurrences("glyphicon glyphicon-star", in: html) == stars, "\(version)")
            if !color.isEmpty { #expect(html.contains(color)) }
        }
    }

    @Test func signingInAsJasonReachesRatings() throws {
        let bookinfo = try Bookinfo()
        defer { bookinfo.stop() }
        let page = bookinfo.pages["v2"]!.baseURL
        var jar = CookieJar()
        let login = try client.request(
            .post, page + "/login", headers: ["Content-Type": "application/x-www-form-urlencoded"],
            body: Array("username=jason&passwd=password".utf8), timeout: 5)
        #expect(login.status == .found)
        #expect(login.headers["Location"] == "/productpage")
        jar.store(from: login)
        bookinfo.ratingsProxy.reset()
        let signedIn = try client.get(page + "/productpage", headers: ["Cookie": jar.header], timeout: 5).bodyText
        #expect(signedIn.contains(#"<span id="user">jason</span>"#))
        #expect(signedIn.contains(#"<a href="logout">Sign out</a>"#))
        #expect(bookinfo.ratingsProxy.requests.last?["end-user"] == "jason")
        let logout = try client.get(page + "/logout", headers: ["Cookie": jar.header], timeout: 5)
        #expect(logout.headers["Location"] == "/productpage")
        jar.store(from: logout)
        #expect(
            !(try client.get(page + "/productpage", headers: ["Cookie": jar.header], timeout: 5).bodyText.contains(
                "Sign out")))
    }

    @Test func tracingHeadersArriveUnchangedEverywhere() throws {
        let bookinfo = try Bookinfo()
        defer { bookinfo.stop() }
        let sent: HTTPHeaders = [
            "x-request-id": "3f1c1a0e-e2c4-4a8b-9f52-0a6ad0e1c001", "x-b3-traceid": "80f198ee56343ba8",
            "x-b3-spanid": "e457b5a2e4d86bd1",
            "x-b3-parentspanid": "05e3ac9a4f6e3b90", "x-b3-sampled": "1", "x-b3-flags": "0",
            "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "user-agent": "integration-test/1.0",
        ]
        let page = try client.get(bookinfo.pages["v2"]!.baseURL + "/productpage", headers: sent, timeout: 5)
        #expect(occurrences("glyphicon glyphicon-star", in: page.bodyText) == 9)
        for (service, proxy) in [
            ("details", bookinfo.detailsProxy), ("reviews", bookinfo.reviewsProxy), ("ratings", bookinfo.ratingsProxy),
        ] {
            let seen = try #require(proxy.requests.last, "\(service) saw nothing")
            for (name, value) in sent { #expect(seen[name] == value, "\(name) at \(service)") }
        }
    }

    @Test func thePageDegradesWhenBackendsStop() throws {
        let bookinfo = try Bookinfo()
        defer { bookinfo.stop() }
        let page = bookinfo.pages["v2"]!.baseURL + "/productpage"
        #expect(bookinfo.ratings.stop() == 0)
        var html = try client.get(page, timeout: 10)
        #expect(html.status == .ok)
        #expect(occurrences("Ratings service is currently unavailable", in: html.bodyText) == 2)
        #expect(bookinfo.reviews["v2"]!.stop() == 0)
        html = try client.get(page, timeout: 10)
        #expect(html.status == .ok)
        #expect(html.bodyText.contains("Error fetching product reviews"))
        #expect(html.bodyText.contains("Sorry, product reviews are currently unavailable for this book."))
        #expect(bookinfo.details.stop() == 0)
        html = try client.get(page, timeout: 10)
        #expect(html.status == .ok)
        #expect(html.bodyText.contains("Error fetching product details"))
        #expect(html.bodyText.contains("Sorry, product details are currently unavailable for this book."))
    }

    /// Istio's fault-injection lesson: ratings 7 s late behind reviews v2 (10 s timeout) outlasts productpage's
    /// two 3 s tries.
    @Test func delayedRatingsBehindReviewsV2() throws {
        let ratings = try ServiceProcess("ratings", ["SERVICE_VERSION": "v-delayed", "FAULT_PROBABILITY": "1"])
        let reviews = try ServiceProcess(
            "reviews",
            ["SERVICE_VERSION": "v2", "RATINGS_HOSTNAME": "127.0.0.1", "RATINGS_SERVICE_PORT": String(ratings.port)])
        let details = try ServiceProcess("details")
        let page = try ServiceProcess(
            "productpage",
            [
                "DETAILS_HOSTNAME": "127.0.0.1", "DETAILS_SERVICE_PORT": String(details.port),
                "REVIEWS_HOSTNAME": "127.0.0.1", "REVIEWS_SERVICE_PORT": String(reviews.port),
            ])
        defer { [page, reviews, details, ratings].forEach { $0.stop(signal: SIGKILL) } }
        let start = Deadline.now
        let html = try client.get(page.baseURL + "/productpage", timeout: 15)
        let elapsed = secondsSince(start)
        #expect(html.status == .ok)
        #expect(html.bodyText.contains("Sorry, product reviews are currently unavailable for this book."))
        #expect(html.bodyText.contains("Book Details"))
        #expect(elapsed >= 5.9 && elapsed < 8, "two 3 s tries, took \(elapsed)s")
    }

    @Test func sigtermFinishesTheRequestInFlightAndExitsZero() throws {
        let ratings = try ServiceProcess(
            "ratings", ["SERVICE_VERSION": "v-delayed", "FAULT_PROBABILITY": "1", "FAULT_DELAY": "1s"])
        let url = ratings.baseURL + "/ratings/0"
        let result = Lock<ClientResponse?>(nil)
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            result.withLock { $0 = try? HTTPClient().get(url, timeout: 5) }
            done.signal()
        }
        usleep(300_000)
        let status = ratings.stop(signal: SIGTERM, timeout: 5)
        done.wait()
        #expect(status == 0)
        #expect(result.withLock { $0?.status } == .ok)
        #expect(result.withLock { $0?.headers["Connection"] } == "close")
        #expect(ratings.log.contains("\"event\":\"drain\""))
    }

    /// What Kubernetes does in a rolling update: SIGTERM, while clients (sidecars whose endpoints have not updated
    /// yet) go on sending for a moment, on new connections and kept-alive ones.
    @Test func underLoadSigtermWithTheDrainDelayFailsNoRequest() throws {
        let details = try ServiceProcess("details", ["SHUTDOWN_DELAY": "3s", "LOG_REQUESTS": "false"])
        let url = details.baseURL + "/details/0"
        final class Tally: Sendable {
            let stop = Atomic<Bool>(false)
            let succeeded = Atomic<Int>(0)
            let failed = Atomic<Int>(0)
        }
        let tally = Tally()
        var fresh = ClientConfiguration()
        fresh.keepAlive = false
        let clients = [HTTPClient(), HTTPClient(configuration: fresh), HTTPClient(), HTTPClient(configuration: fresh)]
        let group = DispatchGroup()
        for client in clients {
            DispatchQueue.global().async(group: group) {
                while !tally.stop.load(ordering: .relaxed) {
                    if (try? client.get(url, timeout: 2))?.status == .ok {
                        tally.succeeded.add(1, ordering: .relaxed)
                    } else {
                        tally.failed.add(1, ordering: .relaxed)
                    }
                }
            }
        }
        usleep(500_000)
        kill(details.process.processIdentifier, SIGTERM)
        let signalled = Deadline.now
        let notReady = eventually(timeout: 2) {
            (try? HTTPClient().get(details.baseURL + "/ready", timeout: 1))?.status == .serviceUnavailable
        }
        // Clients keep sending for 2 s of the 3 s delay.
        while secondsSince(signalled) < 2 { usleep(50_000) }
        tally.stop.store(true, ordering: .relaxed)
        group.wait()
        let (succeeded, failed) = (tally.succeeded.load(ordering: .relaxed), tally.failed.load(ordering: .relaxed))
        #expect(failed == 0, "\(failed) of \(succeeded + failed) failed")
        #expect(succeeded > 200)
        #expect(notReady, "/ready did not turn 503 during the delay")
        #expect(details.stop(signal: SIGTERM, timeout: 10) == 0)
        #expect(details.log.contains(#""event":"stop""#))
    }

    @Test func badSettingsExitTwoNamingTheVariable() throws {
        for (binary, name, value) in [
            ("details", "PORT", "abc"), ("ratings", "SERVICE_VERSION", "v3"), ("reviews", "STAR_COLOR", "Red!"),
            ("productpage", "FLOOD_FACTOR", "-1"), ("storage-app", "ETCD_API", "v4"),
            ("productpage", "HTTP_SERVER_IDLE_TIMEOUT", "forever"),
            ("details", "HTTP_SERVER_SCHEDULING", "fast"),
        ] {
            let (status, output) = try ServiceProcess.run(binary, [name: value])
            #expect(status == 2, "\(binary) \(name)=\(value): \(output)")
            #expect(output.contains(name), "\(binary): \(output)")
        }
        // A setting with a fixed set of values takes exactly those, and says which they are.
        for (binary, name, value, allowed) in [
            ("reviews", "SERVICE_VERSION", "v9", "v1, v2, v3"),
            ("ratings", "SERVICE_VERSION", "v9", "v1, v2, v-faulty, v-delayed, v-unavailable, v-unhealthy"),
            ("details", "SERVICE_VERSION", "v3", "v1, v2"), ("productpage", "SERVICE_VERSION", "v2", "v1, v-flooding"),
            ("reviews", "ENABLE_RATINGS", "maybe", "true or false"), ("reviews", "STAR_COLOR", "blue", "black, red"),
            ("details", "ENABLE_EXTERNAL_BOOK_SERVICE", "yes", "true or false"),
            ("productpage", "LOG_REQUESTS", "1", "true or false"),
            ("storage-app", "HTTP_CLIENT_KEEP_ALIVES", "on", "true or false"),
            ("ratings", "HTTP_SERVER_HOST", "localhost", "numeric IP address"),
        ] {
            let (status, output) = try ServiceProcess.run(binary, [name: value])
            #expect(status == 2, "\(binary) \(name)=\(value): \(output)")
            #expect(
                output.contains("\(name) must be") && output.contains(allowed) && output.contains("(got \"\(value)\")"),
                "\(binary): \(output)")
        }
        let (status, help) = try ServiceProcess.run("productpage", arguments: ["--help"])
        #expect(status == 0)
        for name in [
            "DETAILS_HOSTNAME", "REVIEWS_SERVICE_PORT", "FLOOD_FACTOR", "HTTP_SERVER_MAX_BODY_BYTES", "SESSION_SECRET",
        ] { #expect(help.contains(name)) }
    }

    @Test func theSessionSecretIsNeverShownAndAPublishedOneIsWarnedAbout() throws {
        let real = try ServiceProcess("productpage", ["SESSION_SECRET": "a-real-secret-4f9c2e"])
        #expect(real.stop() == 0)
        #expect(real.log.contains(#""SESSION_SECRET":"set""#), "\(real.log)")
        #expect(!real.log.contains("4f9c2e"))
        #expect(!real.log.contains("published value"))
        for (environment, shown) in [
            ([:], "built-in default"), (["SESSION_SECRET": "change-me-bookinfo-session-secret"], "set"),
        ] {
            let published = try ServiceProcess("productpage", environment)
            #expect(published.stop() == 0)
            #expect(published.log.contains(#""SESSION_SECRET":"\#(shown)""#), "\(published.log)")
            #expect(published.log.contains("SESSION_SECRET is a published value"), "\(published.log)")
            #expect(
                !published.log.contains("bookinfo-swift-default-session-secret")
                    && !published.log.contains("change-me-bookinfo"))
        }
        let (_, help) = try ServiceProcess.run("productpage", arguments: ["--help"])
        #expect(help.contains("SESSION_SECRET (secret string"))
        #expect(!help.contains("bookinfo-swift-default-session-secret"))
    }

    @Test func logRequestsOffKeepsTheStartAndStopLines() throws {
        let details = try ServiceProcess("details", ["LOG_REQUESTS": "false"])
        _ = try HTTPClient().get(details.baseURL + "/details/0", timeout: 2)
        #expect(details.stop() == 0)
        #expect(details.log.contains(#""event":"start""#))
        #expect(details.log.contains(#""event":"stop""#))
        #expect(!details.log.contains(#""message":"request""#))
    }

    @Test func startLineGivesTheEventLoopsInUse() throws {
        let cpus = ProcessInfo.processInfo.activeProcessorCount
        let leaf = try ServiceProcess("details")
        #expect(leaf.stop() == 0)
        #expect(leaf.log.contains(#""event_loops":\#(max(1, cpus - 1))"#), "\(leaf.log)")
        let caller = try ServiceProcess(
            "reviews", ["SERVICE_VERSION": "v2", "RATINGS_HOSTNAME": "127.0.0.1", "RATINGS_SERVICE_PORT": "9"])
        #expect(caller.stop() == 0)
        #expect(caller.log.contains(#""event_loops":\#(cpus)"#), "\(caller.log)")
        let three = try ServiceProcess("details", ["HTTP_SERVER_EVENT_LOOPS": "3"])
        #expect(three.stop() == 0)
        #expect(three.log.contains(#""event_loops":3"#))
        // The storage app sets its own default (one loop in front of etcd), which the environment still overrides.
        let storage = try ServiceProcess("storage-app", ["ETCD_ENDPOINTS": "http://127.0.0.1:9"])
        #expect(storage.stop() == 0)
        #expect(storage.log.contains(#""event_loops":1"#), "\(storage.log)")
        let storageTwo = try ServiceProcess(
            "storage-app", ["ETCD_ENDPOINTS": "http://127.0.0.1:9", "HTTP_SERVER_EVENT_LOOPS": "2"])
        #expect(storageTwo.stop() == 0)
        #expect(storageTwo.log.contains(#""event_loops":2"#), "\(storageTwo.log)")
    }

    /// The scheduling policy of every thread of a running process, from /proc (the 41st field of each task's stat).
    func threadPolicies(_ service: ServiceProcess) -> [String] {
        let tasks = "/proc/\(service.process.processIdentifier)/task"
        return ((try? FileManager.default.contentsOfDirectory(atPath: tasks)) ?? []).compactMap { tid in
            guard let stat = try? String(contentsOfFile: "\(tasks)/\(tid)/stat", encoding: .utf8),
                let end = stat.range(of: ") ", options: .backwards)
            else { return nil }
            let fields = stat[end.upperBound...].split(separator: " ")
            return fields.count > 38 ? String(fields[38]) : nil
        }
    }

    @Test func theStorageAppRunsBatchTheOthersNormalAndTheSettingDecides() throws {
        let cases: [(String, [String: String], String)] = [
            ("storage-app", ["ETCD_ENDPOINTS": "http://127.0.0.1:9"], "3"),
            ("storage-app", ["ETCD_ENDPOINTS": "http://127.0.0.1:9", "HTTP_SERVER_SCHEDULING": "normal"], "0"),
            ("details", [:], "0"),
            ("details", ["HTTP_SERVER_SCHEDULING": "batch"], "3"),
        ]
        for (binary, environment, policy) in cases {
            let service = try ServiceProcess(binary, environment)
            let policies = threadPolicies(service)
            #expect(service.stop() == 0)
            #expect(policies.count >= 3, "\(binary): \(policies)")
            #expect(policies.allSatisfy { $0 == policy }, "\(binary) \(environment): \(policies)")
            #expect(service.log.contains(#""HTTP_SERVER_SCHEDULING":"\#(policy == "3" ? "batch" : "normal")""#))
        }
    }

    @Test func firstArgumentIsThePortAsInTheOriginals() throws {
        let port = freePort()
        let details = try ServiceProcess("details", ["PORT": "9"], arguments: [String(port)], waitReady: false)
        defer { details.stop() }
        #expect(eventually { (try? HTTPClient().get("http://127.0.0.1:\(port)/details/0", timeout: 1))?.status == .ok })
    }

    @Test func localRoundRobinOverThreeReviewsVersions() throws {
        let bookinfo = try Bookinfo()
        defer { bookinfo.stop() }
        let page = try bookinfo.roundRobinPage()
        defer { page.stop() }
        var seen: [String: Int] = [:]
        for _ in 0..<9 {
            let html = try client.get(page.baseURL + "/productpage", timeout: 5).bodyText
            for version in ["v1", "v2", "v3"] where html.contains("reviews-\(version)-pod") {
                seen[version, default: 0] += 1
            }
        }
        #expect(seen == ["v1": 3, "v2": 3, "v3": 3])
    }
}
