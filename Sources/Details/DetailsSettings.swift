import HTTPKit
import ServiceKit

/// details' settings, read once at start-up.
struct DetailsSettings: Sendable {
    /// The Google Books-shaped service to ask (details v2), or nil for the built-in book.
    var bookServiceURL: String?
    var bookServiceTimeout: Double

    init(_ settings: Settings) throws {
        bookServiceTimeout = settings.seconds(DetailsApp.bookServiceTimeout)
        guard settings.bool(DetailsApp.enableExternalBookService) else {
            bookServiceURL = nil
            return
        }
        guard settings.bool(DetailsApp.doNotEncrypt) else {
            throw SettingError(
                variable: DetailsApp.doNotEncrypt.name,
                message:
                    "must be true when ENABLE_EXTERNAL_BOOK_SERVICE is true: this image speaks plain HTTP and "
                    + "leaves TLS to the mesh, as in Istio's egress TLS origination lesson"
            )
        }
        bookServiceURL =
            "http://\(settings.string(DetailsApp.bookServiceHost)):\(settings.string(DetailsApp.bookServicePort))"
    }
}
