@testable import Details
import HTTPKit
import Testing
import TestSupport
import SystemKit
import ServiceKit

@Suite struct DetailsTests {
    let router = try! ServiceUnderTest(DetailsApp.definition)

    @Test func theBookWithTheOriginalKeyOrder() {
        let response = get(router, "/details/7")
        #expect(response.status == .ok)
        #expect(response.headers["Content-Type"] == "application/json")
        #expect(
            response.bodyText
                == #"{"id":7,"author":"William Shakespeare","year":1595,"type":"paperback","pages":200,"#
                + #""publisher":"PublisherA","language":"English","ISBN-10":"1234567890","#
                + #""ISBN-13":"123-1234567890"}"#
        )
        #expect(Book.standard(id: 7).json.serialized() == response.bodyText)
    }

    @Test(arguments: [
        "/details/0x1A", "/details/abc", "/details/010", "/details/1.5", "/details/+7", "/details/1_000", "/details",
        "/details/", "/details/2147483648", "/details/99999999999999999999",
    ])
    func idsMustBeDecimal(_ target: String) {
        let response = get(router, target)
        #expect(response.status == .badRequest)
        #expect(response.bodyText == #"{"error":"please provide numeric product id"}"#)
    }

    @Test func healthAndMethods() {
        #expect(get(router, "/health").bodyText == #"{"status":"Details is healthy"}"#)
        let post = router.respond(to: Request(method: .post, target: "/details/1"))
        #expect(post.status == .methodNotAllowed)
        #expect(post.headers["Allow"] == "GET, HEAD, OPTIONS")
    }

    @Test func externalServiceNeedsPlainHTTPFromTheMesh() {
        #expect(throws: SettingError.self) {
            let context = try ServiceContext(
                testing: "details", table: DetailsApp.table, environment: ["ENABLE_EXTERNAL_BOOK_SERVICE": "true"])
            _ = try DetailsApp.makeRouter(context)
        }
    }

    @Test func externalBookIsMappedFromTheVolumesAPI() throws {
        let books = try TestServer { request in
            #expect(request.target == "/books/v1/volumes?q=isbn:0486424618")
            #expect(request.headers["x-request-id"] == "req-1")
            return .json(
                #"{"items":[{"volumeInfo":{"authors":["William Shakespeare"],"publishedDate":"1996","#
                    + #""printType":"BOOK","pageCount":80,"publisher":"Dover","language":"en","#
                    + #""industryIdentifiers":[{"type":"ISBN_13","identifier":"9780486424613"},{"type":"ISBN_10","#
                    + #""identifier":"0486424618"}]}}]}"#
            )
        }
        defer { books.stop() }
        let router = try ServiceUnderTest(
            DetailsApp.definition, .router,
            [
                "ENABLE_EXTERNAL_BOOK_SERVICE": "true", "DO_NOT_ENCRYPT": "true", "BOOK_SERVICE_HOST": "127.0.0.1",
                "BOOK_SERVICE_PORT": String(books.port),
            ])
        let response = get(router, "/details/0", headers: ["x-request-id": "req-1"])
        #expect(
            response.bodyText
                == #"{"id":0,"author":"William Shakespeare","year":"1996","type":"paperback","pages":80,"#
                + #""publisher":"Dover","language":"English","ISBN-10":"0486424618","ISBN-13":"9780486424613"}"#
        )
        books.stop()
        let down = get(router, "/details/0")
        #expect(down.status == .serviceUnavailable)
        #expect(down.bodyText.contains("book service http://127.0.0.1:\(books.port) unavailable"))
    }
}
