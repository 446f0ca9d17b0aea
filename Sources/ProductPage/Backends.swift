import HTTPKit
import Synchronization

/// The outcome of one logical backend call, as the page and the API see it.
struct BackendResult: Sendable {
    var status: Int
    var json: JSON

    var ok: Bool { status == 200 }
}

/// Calls details, reviews and ratings with the original's deadlines and retries, and counts each logical call in
/// `request_result_total{destination_app,response_code}`.
final class Backends: Sendable {
    let details: Upstream
    let reviews: [Upstream]
    let ratings: Upstream
    let timeout: Double
    let reviewsAttempts: Int
    let results: Counter
    private let nextReviews = Atomic<Int>(0)

    static let detailsUnavailable = "Sorry, product details are currently unavailable for this book."
    static let reviewsUnavailable = "Sorry, product reviews are currently unavailable for this book."
    static let ratingsUnavailable = "Sorry, product ratings are currently unavailable for this book."

    init(details: Upstream, reviews: [Upstream], ratings: Upstream, timeout: Double, reviewsAttempts: Int, results: Counter) {
        self.details = details
        self.reviews = reviews
        self.ratings = ratings
        self.timeout = timeout
        self.reviewsAttempts = reviewsAttempts
        self.results = results
    }

    func fetchDetails(id: Int, headers: HTTPHeaders) -> BackendResult {
        record("details", attempt(details, "/details/\(id)", headers: headers, failure: Self.detailsUnavailable))
    }

    /// Up to `reviewsAttempts` tries (the original's deliberate retry), stopping at the first 200.
    func fetchReviews(id: Int, headers: HTTPHeaders) -> BackendResult {
        record("reviews", retryReviews(after: nil, id: id, headers: headers))
    }

    /// What the page needs: details and the first reviews try at the same time, then any further reviews tries.
    func fetchDetailsAndReviews(id: Int, headers: HTTPHeaders) -> (details: BackendResult, reviews: BackendResult) {
        let both = Upstream.callAll([(details, "/details/\(id)"), (pickReviews(), "/reviews/\(id)")], headers: headers, timeout: timeout)
        let details = interpret(both[0], failure: Self.detailsUnavailable)
        let firstReviews = interpret(both[1], failure: Self.reviewsUnavailable)
        return (record("details", details), record("reviews", retryReviews(after: firstReviews, id: id, headers: headers)))
    }

    private func retryReviews(after first: BackendResult?, id: Int, headers: HTTPHeaders) -> BackendResult {
        var result = first ?? BackendResult(status: 500, json: Self.error(Self.reviewsUnavailable))
        var tries = first == nil ? 0 : 1
        while !result.ok, tries < reviewsAttempts {
            result = attempt(pickReviews(), "/reviews/\(id)", headers: headers, failure: Self.reviewsUnavailable)
            tries += 1
        }
        return result
    }

    func fetchRatings(id: Int, headers: HTTPHeaders) -> BackendResult {
        record("ratings", attempt(ratings, "/ratings/\(id)", headers: headers, failure: Self.ratingsUnavailable))
    }

    /// With several reviews endpoints (a local run without a mesh), each call goes to the next one in turn.
    private func pickReviews() -> Upstream {
        reviews.count == 1 ? reviews[0] : reviews[nextReviews.add(1, ordering: .relaxed).oldValue % reviews.count]
    }

    private func attempt(_ upstream: Upstream, _ path: String, headers: HTTPHeaders, failure: String) -> BackendResult {
        interpret(Result { try upstream.call(.get, path, headers: headers, timeout: timeout) }, failure: failure)
    }

    /// 200 with a JSON object is success; another status passes through; 200 without JSON is 502; no answer 503.
    private func interpret(_ outcome: Result<ClientResponse, some Error>, failure: String) -> BackendResult {
        guard case .success(let response) = outcome else { return BackendResult(status: 503, json: Self.error(failure)) }
        guard response.status.code == 200 else { return BackendResult(status: response.status.code, json: Self.error(failure)) }
        guard let json = try? JSON.parse(response.body), json.isObject else {
            return BackendResult(status: 502, json: Self.error(failure))
        }
        return BackendResult(status: 200, json: json)
    }

    private func record(_ app: String, _ result: BackendResult) -> BackendResult {
        results.increment([app, String(result.status)])
        return result
    }

    static func error(_ message: String) -> JSON { .object([("error", .string(message))]) }
}
