import Bookinfo
import HTTPKit
import ServiceKit

/// What this reviews instance is: v1 (no ratings), v2 (black stars) or v3 (red stars).
struct ReviewsSettings: Equatable {
    /// The colours the original images use.
    static let starColors = ["black", "red"]

    var ratingsEnabled: Bool
    var starColor: String
    var ratingsURL: String
    var ratingsTimeout: Double
    var podName: String
    var clusterName: String

    /// `ENABLE_RATINGS` and `STAR_COLOR` win; when unset they follow the `SERVICE_VERSION` preset of the
    /// original images (v2: true/black, v3: true/red, otherwise false/black).
    init(_ settings: Settings) {
        let version = settings.string(ReviewsApp.serviceVersion)
        let presetEnabled = version == "v2" || version == "v3"
        let presetColor = version == "v3" ? "red" : "black"
        ratingsEnabled =
            settings.string(ReviewsApp.enableRatings).isEmpty ? presetEnabled : settings.bool(ReviewsApp.enableRatings)
        let color = settings.string(ReviewsApp.starColor)
        starColor = color.isEmpty ? presetColor : color
        ratingsURL = settings.serviceURL(
            host: ReviewsApp.ratingsHostname, domain: ReviewsApp.servicesDomain, port: ReviewsApp.ratingsServicePort)
        let timeout = settings.string(ReviewsApp.ratingsTimeout)
        if timeout.isEmpty {
            ratingsTimeout = starColor == "black" ? 10 : 2.5
        } else {
            ratingsTimeout = settings.seconds(ReviewsApp.ratingsTimeout)
        }
        podName = settings.string(ReviewsApp.hostname)
        clusterName = settings.string(ReviewsApp.clusterName)
    }
}
