import Bookinfo
import HTTPKit
import ServiceKit
import SystemKit

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
        version = settings.string(ProductPageApp.serviceVersion)
        podName = settings.string(ProductPageApp.hostname)
        detailsURL = settings.serviceURL(
            host: ProductPageApp.detailsHostname, domain: ProductPageApp.servicesDomain,
            port: ProductPageApp.detailsServicePort)
        ratingsURL = settings.serviceURL(
            host: ProductPageApp.ratingsHostname, domain: ProductPageApp.servicesDomain,
            port: ProductPageApp.ratingsServicePort)
        let endpoints = settings.list(ProductPageApp.reviewsEndpoints)
        reviewsURLs =
            endpoints.isEmpty
            ? [
                settings.serviceURL(
                    host: ProductPageApp.reviewsHostname, domain: ProductPageApp.servicesDomain,
                    port: ProductPageApp.reviewsServicePort)
            ] : endpoints.map { "http://\($0)" }
        reviewsSetting = endpoints.isEmpty ? ProductPageApp.reviewsHostname.name : ProductPageApp.reviewsEndpoints.name
        backendTimeout = settings.seconds(ProductPageApp.backendTimeout)
        reviewsAttempts = settings.int(ProductPageApp.reviewsAttempts)
        floodFactor = settings.int(ProductPageApp.floodFactor)
        sessionSecret = Array(settings.string(ProductPageApp.sessionSecret).utf8)
        secretIsPublished = settings.isDefaultSecret(
            ProductPageApp.sessionSecret, placeholder: Self.manifestPlaceholderSecret)
    }
}
