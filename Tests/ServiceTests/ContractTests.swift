@testable import Details
import HTTPKit
@testable import ProductPage
@testable import Ratings
@testable import Reviews
import Testing
import TestSupport
import SystemKit
import ServiceKit

/// What each producer emits is read correctly by its consumer: the real services wired together, the producers
/// live on sockets, the consumer's router called in process.
@Suite(.serialized) struct ContractTests {
    @Test(arguments: [("v1", 0, "none"), ("v2", 9, "black"), ("v3", 9, "red")])
    func theChainRendersEachVersion(_ version: String, _ stars: Int, _ color: String) throws {
        let ratings = try ServiceUnderTest(RatingsApp.definition, .live)
        let details = try ServiceUnderTest(DetailsApp.definition, .live)
        let reviews = try ServiceUnderTest(
            ReviewsApp.definition, .live,
            [
                "SERVICE_VERSION": version, "RATINGS_HOSTNAME": "127.0.0.1",
                "RATINGS_SERVICE_PORT": String(ratings.port), "HOSTNAME": "reviews-\(version)",
            ])
        defer { [ratings, details, reviews].forEach { $0.stop() } }
        let productpage = try ServiceUnderTest(
            ProductPageApp.definition, .router,
            [
                "DETAILS_HOSTNAME": "127.0.0.1", "DETAILS_SERVICE_PORT": String(details.port),
                "REVIEWS_HOSTNAME": "127.0.0.1", "REVIEWS_SERVICE_PORT": String(reviews.port),
                "RATINGS_HOSTNAME": "127.0.0.1", "RATINGS_SERVICE_PORT": String(ratings.port),
            ])
        let page = get(productpage, "/productpage").bodyText
        #expect(occurrences("glyphicon glyphicon-star", in: page) == stars)
        #expect(page.contains("<td>1234567890</td><td>PublisherA</td><td>200</td><td>paperback</td><td>English</td>"))
        #expect(page.contains("Reviews served by: <span id=\"podname\">reviews-\(version)</span>"))
        if color != "none" { #expect(page.contains("text-\(color)-500")) }
        #expect(page.contains("An extremely entertaining play by Shakespeare."))
    }

    @Test func postedRatingsReachThePage() throws {
        let ratings = try ServiceUnderTest(RatingsApp.definition, .live)
        defer { ratings.stop() }
        _ = try HTTPClient().request(
            .post, ratings.baseURL + "/ratings/0", body: Array(#"{"Reviewer1":2,"Reviewer2":1}"#.utf8), timeout: 2)
        let reviews = try ServiceUnderTest(
            ReviewsApp.definition, .router,
            ["SERVICE_VERSION": "v2", "RATINGS_HOSTNAME": "127.0.0.1", "RATINGS_SERVICE_PORT": String(ratings.port)])
        let body = get(reviews, "/reviews/0").bodyText
        #expect(body.contains(#""rating": {"stars": 2, "color": "black"}"#))
        #expect(body.contains(#""rating": {"stars": 1, "color": "black"}"#))
    }
}
