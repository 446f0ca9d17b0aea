import HTTPKit
import Testing
import SystemKit
import ServiceKit

@Suite struct HTTPHeadersTests {
    @Test func cookiesByName() {
        let headers: HTTPHeaders = ["Cookie": "a=1; session=x.y ;b=2", "cookie": "session=z"]
        #expect(headers.cookies(named: "session") == ["x.y", "z"])
        #expect(headers.cookies(named: "c").isEmpty)
    }
}
