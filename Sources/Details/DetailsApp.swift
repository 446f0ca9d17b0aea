import HTTPKit
import ServiceKit

/// The details service: the book's details, from constants or from a Google Books-shaped API.
enum DetailsApp {
    static let table: [Setting] = [
        serviceVersion,
        enableExternalBookService,
        doNotEncrypt,
        bookServiceHost,
        bookServicePort,
        bookServiceTimeout,
    ]

    static let serviceVersion = Setting(
        "SERVICE_VERSION", "v1", "Version label shown in logs; v2 is the external book service's image",
        .oneOf(["v1", "v2"]))
    static let enableExternalBookService = Setting(
        "ENABLE_EXTERNAL_BOOK_SERVICE", "false", "Fetch the book from the external book service (details v2)",
        .boolean)
    static let doNotEncrypt = Setting(
        "DO_NOT_ENCRYPT", "false",
        "Call the book service over plain HTTP and let the mesh originate TLS; required with the external service",
        .boolean)
    static let bookServiceHost = Setting(
        "BOOK_SERVICE_HOST", "www.googleapis.com", "Host of the Google Books API (or a local stand-in)", .required)
    static let bookServicePort = Setting("BOOK_SERVICE_PORT", "80", "Port of the book service", .port)
    static let bookServiceTimeout = Setting("BOOK_SERVICE_TIMEOUT", "5s", "Deadline of a book service call", .duration)

    static let definition = ServiceRunner.Definition(
        name: "details", summary: "bookinfo details service", table: table, build: makeRouter
    )

    static let invalidID = "please provide numeric product id"

    static func makeRouter(_ context: ServiceContext) throws -> Router {
        let settings = try DetailsSettings(context.settings)
        let external = try settings.bookServiceURL.map {
            try context.upstream("books", baseURL: $0, setting: DetailsApp.bookServiceHost.name)
        }
        let timeout = settings.bookServiceTimeout
        var router = Router()
        router.get("/health", execution: .inline) { _ in .json("{\"status\":\"Details is healthy\"}") }
        router.get("/details", execution: .inline) { _ in throw HTTPError(.badRequest, invalidID) }
        router.get("/details/", execution: .inline) { _ in throw HTTPError(.badRequest, invalidID) }
        router.get("/details/:id", execution: external == nil ? .inline : .blocking) { request in
            let id = try request.int32Parameter("id", message: invalidID)
            if let external {
                return try BookService.fetch(id: id, upstream: external, headers: request.headers, timeout: timeout)
            }
            return .json(bytes: Book.standardBody(id: id))
        }
        return router
    }
}
