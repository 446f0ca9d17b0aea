@testable import HTTPKit
@testable import SystemKit
@testable import ProductPage

/// The session cookie decoder and verifier. The input as a Cookie field never crashes it and never signs anyone in
/// without a session cookie signed with the secret; a cookie made for a name from the input verifies to that name
/// exactly when the name is valid, and with any one character changed it verifies to no one else.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSession(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    let session = Session(secret: Array("fuzzing secret".utf8))
    let text = input.text
    if MessageWriter.isValidValue(text) {
        let headers: HTTPHeaders = ["Cookie": text]
        if let user = session.user(of: headers) {
            let signed = headers.cookies(named: Session.cookieName).contains { value in
                let parts = value.split(separator: ".", omittingEmptySubsequences: false)
                return parts.count == 2
                    && Base64.decode(String(parts[1]))
                        == SHA256.hmac(key: session.secret, message: Array(parts[0].utf8))
            }
            require(signed, "signed in \(user) with \(text), which has no session cookie signed with the secret")
        }
    }
    _ = session.verify(text)
    let name = text
    let cookie = session.cookieValue(user: name)
    let verified = session.verify(cookie)
    require(
        verified == (Session.isValidUsername(name) ? name : nil), "\(name) verified as \(String(describing: verified))")
    var bytes = Array(cookie.utf8)
    let at = input.choice(bytes.count, salt: 6)
    bytes[at] = bytes[at] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
    let changed = session.verify(String(decoding: bytes, as: UTF8.self))
    require(changed == nil || changed == verified, "a changed cookie verified as \(String(describing: changed))")
    return 0
}
