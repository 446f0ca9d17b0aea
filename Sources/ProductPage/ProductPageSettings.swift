import Bookinfo
import HTTPKit

/// productpage's settings, read once at start-up.
struct ProductPageSettings: Sendable {
    var version: String
    var podName: String
    var detailsURL: String
    var ratingsURL: String
    /// The reviews Service, or the `REVIEWS_ENDPOINTS` taken in turn when there is no mesh.
    var reviewsURLs: [String]
    /// The setting an unusable reviews address came from.
    var reviewsSetting: String
    var backendTimeout: Double
    var reviewsAttempts: Int
    var floodFactor: Int
    var sessionSecret: [UInt8]
    /// The secret is the built-in one or the manifests' placeholder: anyone can forge a session.
    var secretIsPublished: Bool

    /// The value `k8s/base/session-secret.yaml` ships, which `scripts/deploy.sh` replaces.
    static let manifestPlaceholderSecret = "change-me-bookinfo-session-secret"

    init(_ settings: Settings) {
        version = settings.string("SERVICE_VERSION")
        podName = settings.string("HOSTNAME")
        detailsURL = settings.serviceURL("DETAILS")
        ratingsURL = settings.serviceURL("RATINGS")
        let endpoints = settings.list("REVIEWS_ENDPOINTS")
        reviewsURLs = endpoints.isEmpty ? [settings.serviceURL("REVIEWS")] : endpoints.map { "http://\($0)" }
        reviewsSetting = endpoints.isEmpty ? "REVIEWS_HOSTNAME" : "REVIEWS_ENDPOINTS"
        backendTimeout = settings.seconds("BACKEND_TIMEOUT")
        reviewsAttempts = settings.int("REVIEWS_ATTEMPTS")
        floodFactor = settings.int("FLOOD_FACTOR")
        sessionSecret = Array(settings.string("SESSION_SECRET").utf8)
        secretIsPublished = settings.isDefaultSecret("SESSION_SECRET", placeholder: Self.manifestPlaceholderSecret)
    }
}
