import HTTPKit
import ServiceKit
import SystemKit

/// The one book of the store.
enum Product {
    static let id = 0
    static let title = "The Comedy of Errors"
    static let descriptionHtml =
        "<a href=\"https://en.wikipedia.org/wiki/The_Comedy_of_Errors\">Wikipedia Summary</a>: The Comedy of Errors "
        + "is one of <b>William Shakespeare's</b> early plays. It is his shortest and one of his most farcical "
        + "comedies, with a major part of the humour coming from slapstick and mistaken identity, in addition to "
        + "puns and word play."

    static var json: JSON {
        .object([("id", .int(id)), ("title", .string(title)), ("descriptionHtml", .string(descriptionHtml))])
    }
}
