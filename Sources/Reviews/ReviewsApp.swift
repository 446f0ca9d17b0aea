import Bookinfo
import HTTPKit
import ServiceKit

/// The reviews service: two reviews of the book, with stars from ratings in v2 and v3.
enum ReviewsApp {
    static let table: [Setting] = [
        serviceVersion,
        enableRatings,
        starColor,
        servicesDomain,
        ratingsHostname,
        ratingsServicePort,
        ratingsTimeout,
        hostname,
        clusterName,
    ]

    static let serviceVersion = Setting(
        "SERVICE_VERSION", "v1", "v1 (no ratings), v2 (black stars), v3 (red stars); a preset for the two below",
        .oneOf(["v1", "v2", "v3"]))
    static let enableRatings = Setting(
        "ENABLE_RATINGS", "", "Call ratings and show stars; empty: from SERVICE_VERSION", .optional(.boolean))
    static let starColor = Setting(
        "STAR_COLOR", "", "Colour of the stars; empty: from SERVICE_VERSION (black, red for v3)",
        .optional(.oneOf(ReviewsSettings.starColors)))
    static let servicesDomain = Setting("SERVICES_DOMAIN", "", "Appended as .DOMAIN to the ratings host name")
    static let ratingsHostname = Setting("RATINGS_HOSTNAME", "ratings", "Host of the ratings service", .required)
    static let ratingsServicePort = Setting("RATINGS_SERVICE_PORT", "9080", "Port of the ratings service", .port)
    static let ratingsTimeout = Setting(
        "RATINGS_TIMEOUT", "", "Deadline of a ratings call; empty: 10s for black stars, 2.5s otherwise",
        .optional(.duration))
    static let hostname = Setting("HOSTNAME", "null", "Pod name shown as podname")
    static let clusterName = Setting("CLUSTER_NAME", "null", "Cluster name shown as clustername")

    static let definition = ServiceRunner.Definition(
        name: "reviews", summary: "bookinfo reviews service", table: table, build: makeRouter
    )

    static func makeRouter(_ context: ServiceContext) throws -> Router {
        let settings = ReviewsSettings(context.settings)
        let ratings = try context.upstream(
            "ratings", baseURL: settings.ratingsURL, setting: ReviewsApp.ratingsHostname.name)
        let logger = context.logger
        var router = Router()
        router.get("/health", execution: .inline) { _ in .json(#"{"status": "Reviews is healthy"}"#) }
        router.get(
            "/reviews/:id",
            reply: { request in
                let id = try request.int32Parameter("id", message: "please provide numeric product id")
                guard settings.ratingsEnabled else {
                    return .response(.json(ReviewsBody.render(id: id, settings: settings, stars: (nil, nil))))
                }
                var outgoing = HeaderPropagation.outgoing(from: request.headers)
                outgoing.add("Accept", "application/json")
                return ratings.reply(.get, "/ratings/\(id)", headers: outgoing, timeout: settings.ratingsTimeout) {
                    result in
                    let stars = Self.stars(from: result, service: ratings.baseURL + "/ratings", logger: logger)
                    return .response(.json(ReviewsBody.render(id: id, settings: settings, stars: stars)))
                }
            })
        return router
    }

    /// The two reviewers' stars, or nil for a reviewer whose rating could not be had.
    static func stars(from result: Result<ClientResponse, HTTPClientError>, service: String, logger: Logger) -> (
        Int?, Int?
    ) {
        switch result {
        case .success(let response):
            guard response.status.code == 200 else {
                logger.warning("Error: unable to contact \(service) got status of \(response.status.code)")
                return (nil, nil)
            }
            let values = (try? JSON.parse(response.body))?["ratings"]
            return (values?["Reviewer1"]?.intValue, values?["Reviewer2"]?.intValue)
        case .failure(let error):
            logger.warning("Error: unable to contact \(service) got exception \(error)")
            return (nil, nil)
        }
    }
}

/// The reviews JSON, spaced exactly as the original builds it by string concatenation.
enum ReviewsBody {
    static let reviews = [
        ("Reviewer1", "An extremely entertaining play by Shakespeare. The slapstick humour is refreshing!"),
        (
            "Reviewer2",
            "Absolutely fun and entertaining. The play lacks thematic depth when compared to other plays by "
                + "Shakespeare."
        ),
    ]
    static let unavailable = "Ratings service is currently unavailable"

    static func render(id: Int, settings: ReviewsSettings, stars: (Int?, Int?)) -> String {
        var out =
            "{\"id\": \"\(id)\",\"podname\": \(JSON.quoted(settings.podName)),\"clustername\":"
            + " \(JSON.quoted(settings.clusterName)),\"reviews\": ["
        for (index, review) in reviews.enumerated() {
            if index > 0 { out += "," }
            out += "{  \"reviewer\": \(JSON.quoted(review.0)),  \"text\": \(JSON.quoted(review.1))"
            if settings.ratingsEnabled {
                if let count = index == 0 ? stars.0 : stars.1, count >= 0 {
                    out += ", \"rating\": {\"stars\": \(count), \"color\": \(JSON.quoted(settings.starColor))}"
                } else {
                    out += ", \"rating\": {\"error\": \"\(unavailable)\"}"
                }
            }
            out += "}"
        }
        return out + "]}"
    }
}
