import HTTPKit
import ServiceKit
import SystemKit

/// The signed-in user, kept in a cookie signed with HMAC-SHA-256 so that it cannot be edited. Every replica
/// with the same secret accepts it.
struct Session {
    static let cookieName = "session"
    static let maxUsernameLength = 100
    let secret: [UInt8]

    /// The cookie value for a user: base64url(JSON) "." base64url(HMAC).
    func cookieValue(user: String) -> String {
        let payload = Base64.urlEncode(JSON.object([("user", .string(user))]).bytes())
        return payload + "." + Base64.urlEncode(SHA256.hmac(key: secret, message: Array(payload.utf8)))
    }

    /// The user of a request's session cookie, if it is present and its signature holds.
    func user(of headers: HTTPHeaders) -> String? {
        for value in headers.cookies(named: Self.cookieName) {
            if let user = verify(value) { return user }
        }
        return nil
    }

    func verify(_ value: String) -> String? {
        let parts = value.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let signature = Base64.decode(String(parts[1])),
            SHA256.constantTimeEqual(signature, SHA256.hmac(key: secret, message: Array(parts[0].utf8))),
            let payload = Base64.decode(String(parts[0])), let json = try? JSON.parse(payload),
            let user = json["user"]?.stringValue, Self.isValidUsername(user)
        else { return nil }
        return user
    }

    static func isValidUsername(_ name: String) -> Bool {
        !name.isEmpty && name.count <= maxUsernameLength
            && name.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value != 0x7F }
    }

    func setCookie(user: String) -> String {
        "\(Self.cookieName)=\(cookieValue(user: user)); HttpOnly; Path=/; SameSite=Lax"
    }

    static let clearCookie = "\(cookieName)=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; Path=/"

}
