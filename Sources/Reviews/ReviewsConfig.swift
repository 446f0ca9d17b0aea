import HTTPKit

/// What this reviews instance is: v1 (no ratings), v2 (black stars) or v3 (red stars).
struct ReviewsConfig: Equatable {
    var ratingsEnabled: Bool
    var starColor: String
    var ratingsURL: String
    var ratingsTimeout: Double
    var podName: String
    var clusterName: String

    /// `ENABLE_RATINGS` and `STAR_COLOR` win; when unset they follow the `SERVICE_VERSION` preset of the
    /// original images (v2: true/black, v3: true/red, otherwise false/black).
    init(_ settings: Settings) throws {
        let version = settings.string("SERVICE_VERSION")
        let presetEnabled = version == "v2" || version == "v3"
        let presetColor = version == "v3" ? "red" : "black"
        let enabled = settings.string("ENABLE_RATINGS")
        if enabled.isEmpty {
            ratingsEnabled = presetEnabled
        } else {
            // The original reads it with Java's Boolean.valueOf: only "true", in any case, is true.
            ratingsEnabled = enabled.lowercased() == "true"
        }
        let color = settings.string("STAR_COLOR")
        starColor = color.isEmpty ? presetColor : color
        guard !starColor.isEmpty, starColor.utf8.count <= 32, starColor.utf8.allSatisfy({ $0 >= 0x61 && $0 <= 0x7A }) else {
            throw ConfigError(variable: "STAR_COLOR", message: "must be a lower-case colour name such as black or red (got \"\(starColor)\")")
        }
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
