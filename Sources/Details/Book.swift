import Bookinfo
import HTTPKit
import ServiceKit

/// The details JSON, with the original's key order.
struct Book: Equatable {
    var id: Int
    var author: String
    var year: JSON
    var type: String
    var pages: JSON
    var publisher: String
    var language: String
    var isbn10: String
    var isbn13: String

    static func standard(id: Int) -> Book {
        Book(
            id: id, author: "William Shakespeare", year: .int(1595), type: "paperback", pages: .int(200),
            publisher: "PublisherA", language: "English", isbn10: "1234567890", isbn13: "123-1234567890"
        )
    }

    /// The body of `standard(id:)` split around the id, so the common reply is two copies and a number.
    static let standardParts: ([UInt8], [UInt8]) = {
        let text = Book.standard(id: 0).json.serialized()
        let marker = #"{"id":0"#
        return (Array(#"{"id":"#.utf8), Array(text.utf8.dropFirst(marker.utf8.count)))
    }()

    static func standardBody(id: Int) -> [UInt8] {
        var body = standardParts.0
        body.reserveCapacity(body.count + 20 + standardParts.1.count)
        body.append(contentsOf: String(id).utf8)
        body.append(contentsOf: standardParts.1)
        return body
    }

    var json: JSON {
        .object([
            ("id", .int(id)), ("author", .string(author)), ("year", year), ("type", .string(type)), ("pages", pages),
            ("publisher", .string(publisher)), ("language", .string(language)), ("ISBN-10", .string(isbn10)),
            ("ISBN-13", .string(isbn13)),
        ])
    }
}

/// details v2: the book from the Google Books volumes API, mapped field by field as the original does.
enum BookService {
    static let isbn = "0486424618"

    static func fetch(id: Int, upstream: Upstream, headers: HTTPHeaders, timeout: Double) throws -> Response {
        let response: ClientResponse
        do {
            response = try upstream.call(
                .get, "/books/v1/volumes?q=isbn:\(isbn)", headers: HeaderPropagation.outgoing(from: headers),
                timeout: timeout)
        } catch {
            throw HTTPError(.serviceUnavailable, "book service \(upstream.baseURL) unavailable: \(error)")
        }
        guard response.status.code == 200 else {
            throw HTTPError(.badGateway, "book service \(upstream.baseURL) answered \(response.status.code)")
        }
        guard let json = try? JSON.parse(response.body), let book = map(json, id: id) else {
            throw HTTPError(.badGateway, "book service \(upstream.baseURL) sent no usable volume")
        }
        return .json(book.json)
    }

    static func map(_ json: JSON, id: Int) -> Book? {
        guard let info = json["items"]?.arrayValue?.first?["volumeInfo"] else { return nil }
        let identifiers = info["industryIdentifiers"]?.arrayValue ?? []
        func isbn(_ type: String) -> String {
            identifiers.first { $0["type"]?.stringValue == type }?["identifier"]?.stringValue ?? ""
        }
        return Book(
            id: id,
            author: info["authors"]?.arrayValue?.first?.stringValue ?? "",
            year: info["publishedDate"] ?? .null,
            type: info["printType"]?.stringValue == "BOOK" ? "paperback" : "unknown",
            pages: info["pageCount"] ?? .null,
            publisher: info["publisher"]?.stringValue ?? "",
            language: info["language"]?.stringValue == "en" ? "English" : "unknown",
            isbn10: isbn("ISBN_10"), isbn13: isbn("ISBN_13")
        )
    }
}
