import HTTPKit
import Synchronization
import ServiceKit
import SystemKit

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

    init(
        details: Upstream, reviews: [Upstream], ratings: Upstream, timeout: Double, reviewsAttempts: Int,
        results: Counter
    ) {
        self.details = details
        self.reviews = reviews
        self.ratings = ratings
        self.timeout = timeout
        self.reviewsAttempts = reviewsAttempts
        self.results = results
    }

    typealias Then = @Sendable (BackendResult) throws -> Reply

    func details(id: Int, headers: HTTPHeaders, then: @escaping Then) -> Reply {
        attempt(details, "/details/\(id)", headers: headers, failure: Self.detailsUnavailable) { [self] in
            try then(record("details", $0))
        }
    }

    /// Up to `reviewsAttempts` tries (the original's deliberate retry), stopping at the first 200.
    func reviews(id: Int, headers: HTTPHeaders, then: @escaping Then) -> Reply {
        retryReviews(after: nil, tries: 0, id: id, headers: headers) { [self] in try then(record("reviews", $0)) }
    }

    /// What the page needs: details and the first reviews try at the same time, then any further reviews tries.
    func detailsAndReviews(
        id: Int, headers: HTTPHeaders, then: @escaping @Sendable (BackendResult, BackendResult) throws -> Reply
    ) -> Reply {
        Upstream.replyAll(
            [(details, "/details/\(id)"), (pickReviews(), "/reviews/\(id)")], headers: headers, timeout: timeout
        ) { [self] both in
            let details = record("details", interpret(both[0], failure: Self.detailsUnavailable))
            let firstReviews = interpret(both[1], failure: Self.reviewsUnavailable)
            return retryReviews(after: firstReviews, tries: 1, id: id, headers: headers) { [self] in
                try then(details, record("reviews", $0))
            }
        }
    }

    /// `count` reviews calls one after the other, each with the full retry logic, results discarded (FLOOD_FACTOR).
    func flood(_ count: Int, id: Int, headers: HTTPHeaders, then: @escaping @Sendable () throws -> Reply) -> Reply {
        guard count > 0 else { return Reply.catching(then) }
        return reviews(id: id, headers: headers) { [self] _ in flood(count - 1, id: id, headers: headers, then: then) }
    }

    /// Another reviews try unless the last one (of `tries` so far) succeeded or the tries are used up.
    private func retryReviews(
        after previous: BackendResult?, tries: Int, id: Int, headers: HTTPHeaders, then: @escaping Then
    ) -> Reply {
        if let previous, previous.ok || tries >= reviewsAttempts { return Reply.catching { try then(previous) } }
        return attempt(pickReviews(), "/reviews/\(id)", headers: headers, failure: Self.reviewsUnavailable) {
            [self] result in
            retryReviews(after: result, tries: tries + 1, id: id, headers: headers, then: then)
        }
    }

    func ratings(id: Int, headers: HTTPHeaders, then: @escaping Then) -> Reply {
        attempt(ratings, "/ratings/\(id)", headers: headers, failure: Self.ratingsUnavailable) { [self] in
            try then(record("ratings", $0))
        }
    }

    /// With several reviews endpoints (a local run without a mesh), each call goes to the next one in turn.
    private func pickReviews() -> Upstream {
        reviews.count == 1 ? reviews[0] : reviews[nextReviews.add(1, ordering: .relaxed).oldValue % reviews.count]
    }

    private func attempt(
        _ upstream: Upstream, _ path: String, headers: HTTPHeaders, failure: String, then: @escaping Then
    ) -> Reply {
        upstream.reply(.get, path, headers: headers, timeout: timeout) { [self] in
            try then(interpret($0, failure: failure))
        }
    }

    /// 200 with a JSON object is success; another status passes through; 200 without JSON is 502; no answer 503.
    private func interpret(_ outcome: Result<ClientResponse, some Error>, failure: String) -> BackendResult {
        guard case .success(let response) = outcome else {
            return BackendResult(status: 503, json: Self.error(failure))
        }
        guard response.status.code == 200 else {
            return BackendResult(status: response.status.code, json: Self.error(failure))
        }
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
