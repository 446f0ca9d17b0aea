import HTTPKit
import SystemKit

/// Records what a fake upstream received.
public final class Recorder: Sendable {
    let requests = Lock<[Request]>([])
    public init() {}
    public func record(_ request: Request) { requests.withLock { $0.append(request) } }
    public var count: Int { requests.withLock { $0.count } }
    public var last: Request? { requests.withLock { $0.last } }
}

/// Fake details, reviews and ratings for one productpage, each answering with what the test sets.
public final class FakeBackends: @unchecked Sendable {
    public let details: TestServer
    public let reviews: TestServer
    public let ratings: TestServer
    public let detailsSeen = Recorder()
    public let reviewsSeen = Recorder()
    public let ratingsSeen = Recorder()

    public init(
        details: @escaping Handler, reviews: @escaping Handler, ratings: @escaping Handler = { _ in .json("{}") }
    ) throws {
        let (d, r, t) = (detailsSeen, reviewsSeen, ratingsSeen)
        self.details = try TestServer {
            d.record($0); return try details($0)
        }
        self.reviews = try TestServer {
            r.record($0); return try reviews($0)
        }
        self.ratings = try TestServer {
            t.record($0); return try ratings($0)
        }
    }

    /// productpage's settings that point at the three fakes.
    public var environment: [String: String] {
        [
            "DETAILS_HOSTNAME": "127.0.0.1", "DETAILS_SERVICE_PORT": String(details.port),
            "REVIEWS_HOSTNAME": "127.0.0.1", "REVIEWS_SERVICE_PORT": String(reviews.port),
            "RATINGS_HOSTNAME": "127.0.0.1", "RATINGS_SERVICE_PORT": String(ratings.port),
            "BACKEND_TIMEOUT": "500ms",
        ]
    }

    public func stop() {
        details.stop()
        reviews.stop()
        ratings.stop()
    }
}

public let detailsJSON =
    #"{"id":0,"author":"William Shakespeare","year":1595,"type":"paperback","pages":200,"publisher":"PublisherA","#
    + #""language":"English","ISBN-10":"1234567890","ISBN-13":"123-1234567890"}"#

public func reviewsJSON(pod: String = "reviews-v2", stars: (Int, Int)? = (5, 4), color: String = "black") -> String {
    let rating: (Int) -> String = { n in stars == nil ? "" : #", "rating": {"stars": \#(n), "color": "\#(color)"}"# }
    return
        #"{"id": "0","podname": "\#(pod)","clustername": "null","reviews": [{  "reviewer": "Reviewer1",  "text": "#
        + #""good"\#(rating(stars?.0 ?? 0))},{  "reviewer": "Reviewer2",  "text": "#
        + #""fine"\#(rating(stars?.1 ?? 0))}]}"#
}

public func occurrences(_ needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }
