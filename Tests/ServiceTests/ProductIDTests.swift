@testable import Details
import HTTPKit
@testable import ProductPage
@testable import Ratings
@testable import Reviews
import Testing
import TestSupport
import SystemKit
import ServiceKit

/// Product ids as Istio's bookinfo API publishes them (integer, int32), written the one canonical way, on every
/// route that takes one.
@Suite struct ProductIDTests {
    static let accepted = ["0", "7", "-5", "2147483647", "-2147483648"]
    static let refused = [
        "010", "00", "-0", "+1", "1e2", "0x10", "2147483648", "-2147483649", "99999999999999999999", "1.5", "abc",
        "1_000", "%2B1", "1%20",
    ]

    /// Each service, run in `mode`, with its route that takes an id and the id's text as the route echoes it.
    static func routes(_ mode: TestMode) throws -> [(ServiceUnderTest, String, (String) -> String)] {
        let details = try ServiceUnderTest(DetailsApp.definition, mode)
        let ratings = try ServiceUnderTest(RatingsApp.definition, mode)
        let reviews = try ServiceUnderTest(ReviewsApp.definition, mode)
        return [
            (details, "/details/", { #""id":\#($0),"# }),
            (ratings, "/ratings/", { #""id":\#($0),"# }),
            (reviews, "/reviews/", { #""id": "\#($0)""# }),
        ]
    }

    @Test(arguments: TestMode.allCases)
    func detailsReviewsAndRatingsTakeEveryInt32(_ mode: TestMode) throws {
        for (router, prefix, echo) in try Self.routes(mode) {
            for id in Self.accepted {
                let response = get(router, prefix + id)
                #expect(response.status == .ok, "\(prefix)\(id)")
                #expect(response.bodyText.contains(echo(id)), "\(prefix)\(id): \(response.bodyText)")
            }
        }
    }

    @Test(arguments: TestMode.allCases)
    func detailsReviewsAndRatingsRefuseEveryOtherForm(_ mode: TestMode) throws {
        for (router, prefix, _) in try Self.routes(mode) {
            for id in Self.refused {
                let response = get(router, prefix + id)
                #expect(response.status == .badRequest, "\(prefix)\(id) answered \(response.status.code)")
                #expect(response.bodyText.contains("please provide numeric product"), "\(prefix)\(id)")
            }
        }
    }

    @Test func theProductPageAPIAppliesTheSameRule() throws {
        let fakes = try FakeBackends(
            details: { _ in .json(detailsJSON) }, reviews: { _ in .json(reviewsJSON()) }, ratings: { _ in .json("{}") })
        defer { fakes.stop() }
        let (router, _) = try fakes.router()
        for suffix in ["", "/reviews", "/ratings"] {
            for id in Self.accepted {
                #expect(get(router, "/api/v1/products/\(id)\(suffix)").status == .ok, "\(id)\(suffix)")
            }
            for id in Self.refused {
                #expect(get(router, "/api/v1/products/\(id)\(suffix)").status == .badRequest, "\(id)\(suffix)")
            }
        }
        #expect(fakes.detailsSeen.last?.path == "/details/-2147483648")
    }
}
