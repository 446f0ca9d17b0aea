import HTTPKit
import ServiceKit
import SystemKit

/// The storage app of the "Istio is not just for microservices" demo: keys stored in etcd through HTTP.
enum StorageApp {
    static let table: [Setting] = [
        httpServerEventLoops,
        httpServerScheduling,
        etcdEndpoints,
        etcdApi,
        etcdTimeout,
        storageMaxKeyBytes,
        storageMaxValueBytes,
    ]

    static let httpServerEventLoops = ServerSettings.override(
        ServerSettings.httpServerEventLoops, "1",
        "Event-loop threads; 1 here, as etcd, not this hop, bounds the throughput")
    static let httpServerScheduling = ServerSettings.override(
        ServerSettings.httpServerScheduling, "batch",
        "Linux scheduling policy of the server's threads: normal or batch; batch here, as this hop shares its "
            + "cores with etcd"
    )
    static let etcdEndpoints = Setting(
        "ETCD_ENDPOINTS", "http://etcd-service:2379", "Comma-separated etcd client URLs, tried in turn", .required)
    static let etcdApi = Setting(
        "ETCD_API", "v3", "etcd API: v3 (JSON gateway, etcd 3.4+) or v2 (keys API, needs --enable-v2)",
        .oneOf(["v3", "v2"]))
    static let etcdTimeout = Setting(
        "ETCD_TIMEOUT", "5s",
        "Total time for one etcd operation, retries and failover included (long enough for an election); then 503",
        .duration)
    static let storageMaxKeyBytes = Setting("STORAGE_MAX_KEY_BYTES", "256", "Longest key", .integer(1...4096))
    static let storageMaxValueBytes = Setting(
        "STORAGE_MAX_VALUE_BYTES", "65536", "Longest value; longer is 413", .integer(0...1_048_576))

    static let definition = ServiceRunner.Definition(
        name: "storage-app", summary: "etcd-backed key store of the storage demo", table: table, build: makeRouter
    )

    static let liveness = "Simple test for liveliness of the application!"

    static func makeRouter(_ context: ServiceContext) throws -> Router {
        let settings = try StorageSettings(context.settings)
        let endpoints = EtcdEndpoints(
            try settings.endpointURLs.map {
                try context.upstream("etcd", baseURL: $0, setting: StorageApp.etcdEndpoints.name)
            },
            totalTimeout: settings.timeout)
        let store: EtcdStore =
            settings.api == "v2" ? EtcdV2Store(endpoints: endpoints) : EtcdV3Store(endpoints: endpoints)
        return makeRouter(store: store, limits: settings.limits)
    }

    struct KeyLimits: Sendable {
        var maxKey: Int
        var maxValue: Int

        /// A key: not empty, bounded, no control characters. Leading slashes are dropped (`/a` and `a` are one key).
        func check(_ raw: String) throws -> String {
            let key = raw.utf8.first == UInt8(ascii: "/") ? String(raw.drop { $0 == "/" }) : raw
            guard !key.isEmpty else { throw HTTPError(.badRequest, "key must not be empty") }
            guard key.utf8.count <= maxKey else {
                throw HTTPError(.badRequest, "key longer than \(maxKey) bytes (STORAGE_MAX_KEY_BYTES)")
            }
            // Bytes of multi-byte UTF-8 sequences are all 0x80 or above, so this finds the C0 controls and DEL.
            guard key.utf8.allSatisfy({ $0 >= 0x20 && $0 != 0x7F }) else {
                throw HTTPError(.badRequest, "key must not contain control characters")
            }
            return key
        }
    }

    static func makeRouter(store: EtcdStore, limits: KeyLimits) -> Router {
        var router = Router()
        router.get("/", execution: .inline) { _ in .html(liveness) }
        router.get("/web", execution: .inline) { _ in .redirect(to: "/web/", status: .movedPermanently) }
        router.get("/web/", execution: .inline) { _ in WebUI.page }
        router.get("/web/index.html", execution: .inline) { _ in WebUI.page }
        router.put(
            "/storage",
            reply: { request in
                let (key, value, requestJSON) = try parsePut(request, limits: limits)
                return store.put(key, value) {
                    answer(
                        request, $0, status: .created,
                        prefix: "nodeAppTesting created(\($0.host)) ->\(requestJSON.serialized()):")
                }
            })
        router.get(
            "/storage",
            reply: { request in
                store.list { result in
                    guard result.status < 300 else { return .response(failure(result)) }
                    return .response(wantsJSON(request) ? .json(bytes: result.body) : text([], result, status: .ok))
                }
            })
        router.get(
            "/storage/:key",
            reply: { request in
                let key = try limits.check(try request.parameter("key"))
                return store.get(key) { answer(request, $0, prefix: "nodeAppTesting(", $0.host, ") ->") }
            })
        router.delete(
            "/storage/:key",
            reply: { request in
                let key = try limits.check(try request.parameter("key"))
                return store.delete(key) { answer(request, $0) }
            })
        return router
    }

    /// Reads `{"key": ..., "value": ...}`; a number or boolean value is stored as its text, a missing or null one
    /// as "".
    static func parsePut(_ request: Request, limits: KeyLimits) throws -> (String, String, JSON) {
        if let type = request.headers["Content-Type"]?.lowercased(), !type.hasPrefix("application/json"),
            !type.hasPrefix("text/plain")
        {
            throw HTTPError(.unsupportedMediaType, "send the key and value as application/json")
        }
        let json: JSON
        do {
            json = try JSON.parse(request.body)
        } catch {
            throw HTTPError(.badRequest, "malformed JSON: \(error)")
        }
        guard json.isObject else { throw HTTPError(.badRequest, "expected a JSON object with key and value") }
        guard let rawKey = json["key"]?.stringValue else { throw HTTPError(.badRequest, "key must be a string") }
        let key = try limits.check(rawKey)
        let value: String
        switch json["value"] {
        case nil, .null?: value = ""
        case .string(let s)?: value = s
        case .number(let n)?: value = n
        case .bool(let b)?: value = b ? "true" : "false"
        default: throw HTTPError(.badRequest, "value must be a string, number or boolean")
        }
        guard value.utf8.count <= limits.maxValue else {
            throw HTTPError(.contentTooLarge, "value longer than \(limits.maxValue) bytes (STORAGE_MAX_VALUE_BYTES)")
        }
        return (key, value, json)
    }

    static func wantsJSON(_ request: Request) -> Bool {
        request.headers.tokens("Accept").contains { $0.lowercased().hasPrefix("application/json") }
    }

    /// A key's result as the client asked: etcd's JSON with its status, or the demo's text (`prefix`, then the JSON)
    /// with 200; `status`, when given, is the status of either.
    static func answer(_ request: Request, _ result: EtcdResult, status: HTTPStatus? = nil, prefix: String...) -> Reply
    {
        if wantsJSON(request) {
            return .response(.json(bytes: result.body, status: status ?? HTTPStatus(code: result.status)))
        }
        guard result.status < 300 else { return .response(failure(result)) }
        return .response(text(prefix, result, status: status ?? .ok))
    }

    /// An etcd error (a missing key is 404) with the original's prefix.
    static func failure(_ result: EtcdResult) -> Response {
        text(["nodeAppTesting failed(", result.host, ") ->"], result, status: HTTPStatus(code: result.status))
    }

    /// The parts of `prefix` followed by the result's JSON.
    static func text(_ prefix: [String], _ result: EtcdResult, status: HTTPStatus) -> Response {
        var body: [UInt8] = []
        body.reserveCapacity(prefix.reduce(result.body.count) { $0 + $1.utf8.count })
        for part in prefix { body.append(contentsOf: part.utf8) }
        body.append(contentsOf: result.body)
        return .text(bytes: body, status: status)
    }
}
