import Foundation
import HTTPKit
@testable import ProductPage
import Testing
import TestSupport
import SystemKit
import ServiceKit

extension FakeBackends {
    func router(_ extra: [String: String] = [:], mode: TestMode = .router) throws -> (ServiceUnderTest, ServiceContext?)
    {
        let service = try ServiceUnderTest(ProductPageApp.definition, mode, environment.merging(extra) { $1 })
        return (service, service.context)
    }
}

@Suite(.serialized) struct ProductPageTests {
    @Test func pageWithStars() throws {
        let fakes = try FakeBackends(details: { _ in .json(detailsJSON) }, reviews: { _ in .json(reviewsJSON()) })
        defer { fakes.stop() }
        let (router, _) = try fakes.router()
        let page = get(router, "/productpage?u=normal")
        #expect(page.status == .ok)
        let html = page.bodyText
        #expect(html.contains("<title>Simple Bookstore App</title>"))
        #expect(html.contains("Book Details"))
        #expect(html.contains("Book Reviews"))
        #expect(html.contains("Reviews served by: <span id=\"podname\">reviews-v2</span>"))
        #expect(occurrences("glyphicon glyphicon-star", in: html) == 9)
        #expect(html.contains("text-black-500"))
        #expect(html.contains("<td>1234567890</td><td>PublisherA</td><td>200</td><td>paperback</td><td>English</td>"))
        #expect(html.contains("<button id=\"sign-in-button\""))
        #expect(html.contains(#"<form method="post" action="login" name="login_form">"#))
        #expect(html.contains(#"name="passwd""#))
        // Nothing is loaded from another host: no script file at all, every stylesheet and image from this one.
        #expect(!html.contains("<script src="))
        for attribute in ["src=\"", "<link rel=\"stylesheet\" href=\""] {
            for part in html.components(separatedBy: attribute).dropFirst() {
                #expect(!part.hasPrefix("http") && !part.hasPrefix("//"), "\(attribute)\(part.prefix(40))")
            }
        }
        #expect(html.contains("<link rel=\"stylesheet\" href=\"static/bookinfo.css\">"))
    }

    @Test func failuresShowTheDocumentedTextsAndStill200() throws {
        let fakes = try FakeBackends(
            details: { _ in .json("{}", status: HTTPStatus(code: 555)) },
            reviews: { _ in .json("{}", status: .serviceUnavailable) })
        defer { fakes.stop() }
        let (router, context) = try fakes.router()
        let page = get(router, "/productpage")
        #expect(page.status == .ok)
        #expect(page.bodyText.contains("Error fetching product details"))
        #expect(page.bodyText.contains("Sorry, product details are currently unavailable for this book."))
        #expect(page.bodyText.contains("Error fetching product reviews"))
        #expect(page.bodyText.contains("Sorry, product reviews are currently unavailable for this book."))
        #expect(fakes.reviewsSeen.count == 2, "reviews is tried twice")
        #expect(fakes.detailsSeen.count == 1)
        let metrics = try #require(context).metrics.render()
        #expect(metrics.contains(#"request_result_total{destination_app="details",response_code="555"} 1"#))
        #expect(metrics.contains(#"request_result_total{destination_app="reviews",response_code="503"} 1"#))
    }

    @Test func ratingsErrorTextFromReviews() throws {
        let body =
            #"{"id": "0","podname": "p","clustername": "c1","reviews": [{  "reviewer": "Reviewer1",  "text": "t", "#
            + #""rating": {"error": "Ratings service is currently unavailable"}}]}"#
        let fakes = try FakeBackends(details: { _ in .json(detailsJSON) }, reviews: { _ in .json(body) })
        defer { fakes.stop() }
        let html = get(try fakes.router().0, "/productpage").bodyText
        #expect(html.contains("Ratings service is currently unavailable"))
        #expect(html.contains("on cluster <span id=\"clustername\">c1</span>"))
        #expect(!html.contains("glyphicon glyphicon-star"))
    }

    @Test func backendStringsAreEscaped() throws {
        let evil =
            #"{"id": "0","podname": "<script>alert(1)</script>","clustername": "null","reviews": [{  "reviewer": "#
            + #""<b>x</b>",  "text": "\"><img src=x onerror=alert(1)>", "rating": {"stars": 2, "color": "red\" "#
            + #"onmouseover=\"x"}}]}"#
        let fakes = try FakeBackends(
            details: { _ in .json(#"{"publisher":"<i>P</i>"}"#) }, reviews: { _ in .json(evil) })
        defer { fakes.stop() }
        let html = get(try fakes.router().0, "/productpage").bodyText
        #expect(!html.contains("<script>alert(1)"))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(!html.contains("<img src=x"))
        #expect(!html.contains("onmouseover=\"x"))
        #expect(html.contains("&lt;i&gt;P&lt;/i&gt;"))
    }

    @Test func loginSetsASignedCookieAndEndUserGoesUpstream() throws {
        let fakes = try FakeBackends(details: { _ in .json(detailsJSON) }, reviews: { _ in .json(reviewsJSON()) })
        defer { fakes.stop() }
        let (router, _) = try fakes.router()
        let login = router.respond(
            to: Request(
                method: .post, target: "/login",
                headers: ["Content-Type": "application/x-www-form-urlencoded", "Host": "shop"],
                body: Array("username=jason&passwd=password".utf8)))
        #expect(login.status == .found)
        #expect(login.headers["Location"] == "/productpage")
        let setCookie = try #require(login.headers["Set-Cookie"])
        #expect(setCookie.contains("HttpOnly"))
        let cookie = String(setCookie.split(separator: ";")[0])
        let page = get(router, "/productpage", headers: ["Cookie": cookie, "end-user": "mallory"])
        #expect(page.bodyText.contains(#"<span id="user">jason</span>"#))
        #expect(page.bodyText.contains(#"href="logout""#))
        #expect(fakes.reviewsSeen.last?.headers.values("end-user") == ["jason"])
        #expect(fakes.detailsSeen.last?.headers.values("end-user") == ["jason"])

        let anonymous = get(router, "/productpage", headers: ["end-user": "mallory"])
        #expect(!anonymous.bodyText.contains("mallory"))
        #expect(fakes.reviewsSeen.last?.headers["end-user"] == nil, "an incoming end-user is not trusted")

        let tampered = cookie.replacingOccurrences(of: "session=eyJ", with: "session=eyK")
        #expect(!get(router, "/productpage", headers: ["Cookie": tampered]).bodyText.contains("Sign out"))

        let logout = get(
            router, "/logout", headers: ["Cookie": cookie, "Referer": "http://shop/productpage?u=test", "Host": "shop"])
        #expect(logout.headers["Location"] == "/productpage?u=test")
        #expect(logout.headers["Set-Cookie"]?.contains("Max-Age=0") == true)
    }

    @Test(arguments: [
        ("/productpage?u=test", "/productpage?u=test"), ("/", "/"), ("/static/a%20b.css", "/static/a%20b.css"),
        ("http://shop/productpage", "/productpage"), ("http://shop:80/x?y=1", "/x?y=1"),
        ("http://evil.example/", "/productpage"),
        ("//evil.example", "/productpage"), ("/\\evil.example", "/productpage"), ("\\/evil.example", "/productpage"),
        ("/%5Cevil.example", "/productpage"), ("/%5cevil.example", "/productpage"),
        ("/%2F/evil.example", "/productpage"),
        ("/%2f%2fevil.example", "/productpage"), ("/\t/evil.example", "/productpage"),
        ("/%09/evil.example", "/productpage"),
        ("/%0A/evil.example", "/productpage"), ("/a\\b", "/productpage"), ("/%", "/productpage"),
        ("evil.example", "/productpage"),
        ("http://shop//evil.example", "/productpage"), ("http://shop/\\evil.example", "/productpage"),
        ("", "/productpage"),
    ])
    func onlySameSitePathsAreFollowedAfterLoginAndLogout(_ referer: String, _ location: String) throws {
        let fakes = try FakeBackends(details: { _ in .json(detailsJSON) }, reviews: { _ in .json(reviewsJSON()) })
        defer { fakes.stop() }
        let (router, _) = try fakes.router()
        let login = router.respond(
            to: Request(method: .post, target: "/login?username=a", headers: ["Referer": referer, "Host": "shop"]))
        #expect(login.status == .found)
        #expect(login.headers["Location"] == location, "Referer \(referer)")
        #expect(
            get(router, "/logout", headers: ["Referer": referer, "Host": "shop"]).headers["Location"] == location,
            "Referer \(referer)")
    }

    @Test func aNewlineInTheRefererIsNotFollowed() {
        #expect(!ProductPageApp.isSameSitePath("/\n/evil.example"))
        #expect(!ProductPageApp.isSameSitePath("/\u{7F}/evil.example"))
    }

    @Test func loginInputsAreChecked() throws {
        let fakes = try FakeBackends(details: { _ in .json(detailsJSON) }, reviews: { _ in .json(reviewsJSON()) })
        defer { fakes.stop() }
        let (router, _) = try fakes.router()
        let viaQuery = router.respond(to: Request(method: .post, target: "/login?username=jason"))
        #expect(viaQuery.status == .found)
        let empty = router.respond(
            to: Request(
                method: .post, target: "/login", headers: ["Content-Type": "application/x-www-form-urlencoded"],
                body: Array("passwd=x".utf8)))
        #expect(empty.status == .badRequest)
        let offsite = router.respond(
            to: Request(
                method: .post, target: "/login?username=a",
                headers: ["Referer": "http://evil.example/", "Host": "shop"]))
        #expect(offsite.headers["Location"] == "/productpage")
        #expect(get(router, "/login").status == .methodNotAllowed)
        #expect(get(router, "/login").headers["Allow"] == "POST, OPTIONS")
    }

    @Test func apiPassesStatusesThroughInPythonSpacing() throws {
        let fakes = try FakeBackends(
            details: { _ in .json(detailsJSON) }, reviews: { _ in .json("{}", status: HTTPStatus(code: 555)) },
            ratings: { _ in .json(#"{"id":0,"ratings":{"Reviewer1":5,"Reviewer2":4}}"#) })
        defer { fakes.stop() }
        let (router, _) = try fakes.router()
        #expect(
            get(router, "/api/v1/products/0").bodyText.hasPrefix(
                #"{"id": 0, "author": "William Shakespeare", "year": 1595,"#))
        let reviews = get(router, "/api/v1/products/0/reviews", headers: ["x-request-id": "r-1", "sw8": "1-abc"])
        #expect(reviews.status.code == 555)
        #expect(reviews.bodyText == #"{"error": "Sorry, product reviews are currently unavailable for this book."}"#)
        #expect(fakes.reviewsSeen.last?.headers["x-request-id"] == "r-1")
        #expect(fakes.reviewsSeen.last?.headers["sw8"] == "1-abc")
        #expect(
            get(router, "/api/v1/products/0/ratings").bodyText
                == #"{"id": 0, "ratings": {"Reviewer1": 5, "Reviewer2": 4}}"#)
        #expect(fakes.ratingsSeen.count == 1)
        #expect(
            get(router, "/api/v1/products").bodyText.hasPrefix(
                #"[{"id": 0, "title": "The Comedy of Errors", "descriptionHtml": "#))
        #expect(get(router, "/api/v1/products/0/").status == .notFound)
        #expect(get(router, "/api/v1/products/x1").status == .badRequest)
    }

    @Test func detailsAndReviewsAreFetchedConcurrently() throws {
        let fakes = try FakeBackends(
            details: { _ in
                usleep(2_000_000); return .json(detailsJSON)
            },
            reviews: { _ in
                usleep(2_000_000); return .json(reviewsJSON())
            }
        )
        defer { fakes.stop() }
        let (router, _) = try fakes.router(["BACKEND_TIMEOUT": "6s"])
        let start = Deadline.now
        #expect(get(router, "/productpage").bodyText.contains("Book Reviews"))
        let elapsed = secondsSince(start)
        // Overlapping: 2 s; one after the other: 4 s. The margin holds on two loaded cores under a sanitizer.
        #expect(elapsed >= 2 && elapsed < 3.4, "took \(elapsed)s: the two 2 s calls did not overlap")
    }

    @Test func floodFactorAddsReviewsCalls() throws {
        let fakes = try FakeBackends(details: { _ in .json(detailsJSON) }, reviews: { _ in .json(reviewsJSON()) })
        defer { fakes.stop() }
        let (router, _) = try fakes.router(["FLOOD_FACTOR": "3"])
        _ = get(router, "/productpage")
        #expect(fakes.reviewsSeen.count == 4)
        #expect(fakes.detailsSeen.count == 1)
    }

    @Test func reviewsEndpointsAreUsedInTurn() throws {
        let a = try TestServer { _ in .json(reviewsJSON(pod: "a")) }
        let b = try TestServer { _ in .json(reviewsJSON(pod: "b")) }
        defer { a.stop(); b.stop() }
        let fakes = try FakeBackends(details: { _ in .json(detailsJSON) }, reviews: { _ in .json(reviewsJSON()) })
        defer { fakes.stop() }
        let (router, _) = try fakes.router(["REVIEWS_ENDPOINTS": "127.0.0.1:\(a.port), 127.0.0.1:\(b.port)"])
        let pods = (0..<4).map { _ in get(router, "/productpage").bodyText.contains("podname\">a<") ? "a" : "b" }
        #expect(pods == ["a", "b", "a", "b"])
    }

    @Test func staticAssetsAreServedLocally() throws {
        let fakes = try FakeBackends(details: { _ in .json(detailsJSON) }, reviews: { _ in .json(reviewsJSON()) })
        defer { fakes.stop() }
        let (router, _) = try fakes.router()
        let png = get(router, "/static/img/izzy.png")
        #expect(png.headers["Content-Type"] == "image/png")
        #expect(Array(png.body.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        #expect(get(router, "/static/bookinfo.css").headers["Content-Type"] == "text/css; charset=utf-8")
        #expect(get(router, "/static/nope.js").status == .notFound)
        #expect(get(router, "/health").bodyText == "Product page is healthy")
        #expect(get(router, "/").bodyText.contains("Hello! This is a simple bookstore application"))
    }
}
