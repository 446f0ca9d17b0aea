import HTTPKit

/// details' settings, read once at start-up.
struct DetailsSettings: Sendable {
    /// The Google Books-shaped service to ask (details v2), or nil for the built-in book.
    var bookServiceURL: String?
    var bookServiceTimeout: Double

    init(_ settings: Settings) throws {
        bookServiceTimeout = settings.seconds("BOOK_SERVICE_TIMEOUT")
        guard settings.bool("ENABLE_EXTERNAL_BOOK_SERVICE") else {
            bookServiceURL = nil
            return
        }
        guard settings.bool("DO_NOT_ENCRYPT") else {
            throw SettingError(
                variable: "DO_NOT_ENCRYPT",
                message:
                    "must be true when ENABLE_EXTERNAL_BOOK_SERVICE is true: this image speaks plain HTTP and "
                    + "leaves TLS to the mesh, as in Istio's egress TLS origination lesson"
            )
        }
        bookServiceURL = "http://\(settings.string("BOOK_SERVICE_HOST")):\(settings.string("BOOK_SERVICE_PORT"))"
    }
}
