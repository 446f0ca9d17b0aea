import HTTPKit

extension Settings {
    /// Bookinfo's convention for a backend's address:
    /// `http://{<NAME>_HOSTNAME}{.SERVICES_DOMAIN}:{<NAME>_SERVICE_PORT}`.
    public func serviceURL(_ name: String) -> String {
        let domain = string("SERVICES_DOMAIN")
        return
            "http://\(string("\(name)_HOSTNAME"))\(domain.isEmpty ? "" : "." + domain)"
            + ":\(string("\(name)_SERVICE_PORT"))"
    }
}
