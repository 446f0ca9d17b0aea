import HTTPKit
import ServiceKit

extension Settings {
    /// Bookinfo's convention for a backend's address: `http://{host}{.domain}:{port}`, where the three settings are
    /// `<NAME>_HOSTNAME`, `SERVICES_DOMAIN` and `<NAME>_SERVICE_PORT`.
    public func serviceURL(host: Setting, domain: Setting, port: Setting) -> String {
        let suffix = string(domain)
        return "http://\(string(host))\(suffix.isEmpty ? "" : "." + suffix):\(string(port))"
    }
}
