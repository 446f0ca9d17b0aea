import HTTPKit
@testable import ProductPage
import Testing
import SystemKit
import ServiceKit

@Suite struct SessionTests {
    @Test func signatureAndTampering() {
        let session = Session(secret: Array("k".utf8))
        let value = session.cookieValue(user: "jason")
        #expect(session.verify(value) == "jason")
        #expect(Session(secret: Array("other".utf8)).verify(value) == nil)
        let forged = Base64.urlEncode(Array(#"{"user":"admin"}"#.utf8)) + "." + value.split(separator: ".")[1]
        #expect(session.verify(forged) == nil)
        #expect(session.user(of: ["Cookie": "a=b; session=\(value); c=d"]) == "jason")
    }
}
