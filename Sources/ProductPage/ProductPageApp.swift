import Bookinfo
import HTTPKit
import ServiceKit
import SystemKit

/// The product page: the HTML page, sign-in, and the JSON API over details, reviews and ratings.
enum ProductPageApp {
    static let table: [Setting] = [
        serviceVersion,
        servicesDomain,
        detailsHostname,
        detailsServicePort,
        reviewsHostname,
        reviewsServicePort,
        reviewsEndpoints,
        ratingsHostname,
        ratingsServicePort,
        floodFactor,
        backendTimeout,
        reviewsAttempts,
        sessionSecret,
        hostname,
    ]

    static let serviceVersion = Setting(
        "SERVICE_VERSION", "v1", "Version label shown in the footer and logs; v-flooding is the flooding image's",
        .oneOf(["v1", "v-flooding"]))
    static let servicesDomain = Setting("SERVICES_DOMAIN", "", "Appended as .DOMAIN to every backend host name")
    static let detailsHostname = Setting("DETAILS_HOSTNAME", "details", "Host of the details service", .required)
    static let detailsServicePort = Setting("DETAILS_SERVICE_PORT", "9080", "Port of the details service", .port)
    static let reviewsHostname = Setting("REVIEWS_HOSTNAME", "reviews", "Host of the reviews service", .required)
    static let reviewsServicePort = Setting("REVIEWS_SERVICE_PORT", "9080", "Port of the reviews service", .port)
    static let reviewsEndpoints = Setting(
        "REVIEWS_ENDPOINTS", "",
        "Comma-separated host:port list used in turn instead of the reviews host (local runs without a mesh)")
    static let ratingsHostname = Setting("RATINGS_HOSTNAME", "ratings", "Host of the ratings service", .required)
    static let ratingsServicePort = Setting("RATINGS_SERVICE_PORT", "9080", "Port of the ratings service", .port)
    static let floodFactor = Setting(
        "FLOOD_FACTOR", "0", "Extra reviews calls per page view (the flooding image sets 100)", .integer(0...1000))
    static let backendTimeout = Setting("BACKEND_TIMEOUT", "3s", "Deadline of each backend call", .duration)
    static let reviewsAttempts = Setting(
        "REVIEWS_ATTEMPTS", "2", "Tries of the reviews call (the original retries once)", .integer(1...10))
    static let sessionSecret = Setting(
        "SESSION_SECRET", "bookinfo-swift-default-session-secret",
        "Key signing the session cookie; set the same random secret on every replica", .required, secret: true)
    static let hostname = Setting("HOSTNAME", "localhost", "Pod name shown in the footer")

    static let definition = ServiceRunner.Definition(
        name: "productpage", summary: "bookinfo product page", table: table, build: makeRouter
    )

    static func makeRouter(_ context: ServiceContext) throws -> Router {
        let settings = ProductPageSettings(context.settings)
        let backends = Backends(
            details: try context.upstream(
                "details", baseURL: settings.detailsURL, setting: ProductPageApp.detailsHostname.name),
            reviews: try settings.reviewsURLs.map {
                try context.upstream("reviews", baseURL: $0, setting: settings.reviewsSetting)
            },
            ratings: try context.upstream(
                "ratings", baseURL: settings.ratingsURL, setting: ProductPageApp.ratingsHostname.name),
            timeout: settings.backendTimeout, reviewsAttempts: settings.reviewsAttempts,
            results: context.metrics.counter(
                "request_result_total", "Backend calls by destination and result",
                labels: ["destination_app", "response_code"])
        )
        let session = Session(secret: settings.sessionSecret)
        if settings.secretIsPublished {
            context.logger.warning(
                "SESSION_SECRET is a published value, so anyone can forge a session cookie; set a random one "
                    + "(scripts/deploy.sh does)",
                [("event", .string("config"))])
        }
        let handlers = ProductPageHandlers(
            backends: backends, session: session, flood: settings.floodFactor,
            footer: ProductPageHTML.Footer(version: settings.version, podName: settings.podName))

        var router = Router()
        let indexPage = IndexHTML.render(
            details: settings.detailsURL, reviews: settings.reviewsURLs.joined(separator: ", "),
            ratings: settings.ratingsURL)
        let index: Handler = { _ in .html(indexPage) }
        router.get("/", execution: .inline, index)
        router.get("/index.html", execution: .inline, index)
        router.get("/health", execution: .inline) { _ in .html("Product page is healthy") }
        router.get("/static/*path", execution: .inline, ProductPageHandlers.staticFile)
        router.get("/productpage", reply: handlers.page)
        router.post("/login", execution: .inline, handlers.login)
        router.get("/logout", execution: .inline, ProductPageHandlers.logout)
        router.get("/api/v1/products", execution: .inline, ProductPageHandlers.products)
        router.get("/api/v1/products/:id", reply: handlers.productDetails)
        router.get("/api/v1/products/:id/reviews", reply: handlers.productReviews)
        router.get("/api/v1/products/:id/ratings", reply: handlers.productRatings)
        return router
    }

    static func apiHeaders(_ request: Request, _ session: Session) -> HTTPHeaders {
        HeaderPropagation.outgoing(from: request.headers, endUser: .some(session.user(of: request.headers)))
    }

    /// The backend's status with its JSON, written the way the original's Python serialiser spaces it.
    static func api(_ result: BackendResult) -> Response {
        .json(bytes: result.json.bytes(.spaced), status: HTTPStatus(code: result.status))
    }

    /// Back to the page the user came from when it is on this site, else /productpage (never the original's
    /// literal `None`). A same-host URL is followed by its path alone.
    static func redirectTarget(_ request: Request) -> String {
        guard let referer = request.headers["Referer"], !referer.isEmpty else { return "/productpage" }
        var path = referer
        if !referer.hasPrefix("/") {
            guard let url = try? HTTPClient.URL(referer), let host = request.headers["Host"],
                url.authority == host || url.host == host
            else {
                return "/productpage"
            }
            path = url.target
        }
        return isSameSitePath(path) ? path : "/productpage"
    }

    /// A path a browser resolves on this site: one `/` first, no `\\` anywhere (browsers read it as `/`), no
    /// control character (browsers drop tabs and newlines, which can join `/` and `/`), and the same once
    /// percent-decoded, for a proxy that decodes before it forwards.
    static func isSameSitePath(_ path: String) -> Bool {
        func plain(_ text: String) -> Bool {
            let bytes = Array(text.utf8)
            guard bytes.first == UInt8(ascii: "/") else { return false }
            if bytes.count > 1, bytes[1] == UInt8(ascii: "/") || bytes[1] == UInt8(ascii: "\\") { return false }
            return !bytes.contains { $0 < 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "\\") }
        }
        guard plain(path), let decoded = URI.percentDecode(path) else { return false }
        return plain(decoded)
    }
}
