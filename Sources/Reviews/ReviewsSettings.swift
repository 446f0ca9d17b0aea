import Bookinfo
import HTTPKit

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
        let version = settings.string("SERVICE_VERSION")
        let presetEnabled = version == "v2" || version == "v3"
        let presetColor = version == "v3" ? "red" : "black"
        ratingsEnabled = settings.string("ENABLE_RATINGS").isEmpty ? presetEnabled : settings.bool("ENABLE_RATINGS")
        let color = settings.string("STAR_COLOR")
        starColor = color.isEmpty ? presetColor : color
        ratingsURL = settings.serviceURL("RATINGS")
        let timeout = settings.string("RATINGS_TIMEOUT")
        if timeout.isEmpty {
            ratingsTimeout = starColor == "black" ? 10 : 2.5
        } else {
            ratingsTimeout = settings.seconds("RATINGS_TIMEOUT")
        }
        podName = settings.string("HOSTNAME")
        clusterName = settings.string("CLUSTER_NAME")
    }
}
