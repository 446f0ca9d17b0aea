import HTTPKit

/// An etcd result in etcd v2's JSON shape (action, node, prevNode), whichever API produced it.
struct EtcdResult {
    var status: Int
    var json: JSON
    /// The endpoint host that answered.
    var host: String
}

/// Reads and writes keys in etcd. Keys are given without a leading slash; results name them `/key`, as v2 does.
protocol EtcdStore: Sendable {
    func put(_ key: String, _ value: String) throws -> EtcdResult
    func get(_ key: String) throws -> EtcdResult
    func list() throws -> EtcdResult
    func delete(_ key: String) throws -> EtcdResult
    var endpoints: EtcdEndpoints { get }
}

enum V2Node {
    static func node(key: String, value: String?, modified: JSON, created: JSON) -> JSON {
        var members: [(String, JSON)] = [("key", .string(key))]
        if let value { members.append(("value", .string(value))) }
        members.append(("modifiedIndex", modified))
        members.append(("createdIndex", created))
        return .object(members)
    }

    static func keyNotFound(_ key: String, index: JSON) -> JSON {
        .object([("errorCode", .int(100)), ("message", .string("Key not found")), ("cause", .string(key)), ("index", index)])
    }
}

/// etcd's v3 JSON gateway (`/v3/kv/...`, base64 keys and values), the default: etcd 3.4, 3.5 and 3.6 serve it.
struct EtcdV3Store: EtcdStore {
    let endpoints: EtcdEndpoints

    private func call(_ path: String, _ body: JSON) throws -> (JSON, String) {
        let (response, host) = try endpoints.send(.post, path, headers: ["Content-Type": "application/json"], body: body.bytes())
        guard response.status.code == 200, let json = try? JSON.parse(response.body) else {
            throw HTTPError(.badGateway, "etcd at \(host) answered \(response.status.code) to \(path): \(String(response.bodyText.prefix(200)))")
        }
        return (json, host)
    }

    private func b64(_ text: String) -> JSON { .string(Base64.encode(Array(text.utf8))) }

    private func text(_ json: JSON?) -> String {
        guard let encoded = json?.stringValue, let bytes = Base64.decode(encoded) else { return "" }
        return String(decoding: bytes, as: UTF8.self)
    }

    private func revision(_ json: JSON?) -> JSON {
        guard let text = json?.stringValue, Int(text) != nil else { return .int(0) }
        return .number(text)
    }

    func put(_ key: String, _ value: String) throws -> EtcdResult {
        let name = "/" + key
        let (json, host) = try call("/v3/kv/put", .object([("key", b64(name)), ("value", b64(value)), ("prev_kv", .bool(true))]))
        let rev = revision(json["header"]?["revision"])
        var members: [(String, JSON)] = [("action", .string("set")), ("node", V2Node.node(key: name, value: value, modified: rev, created: rev))]
        if let prev = json["prev_kv"] {
            members.append(("prevNode", V2Node.node(key: name, value: text(prev["value"]), modified: revision(prev["mod_revision"]), created: revision(prev["create_revision"]))))
        }
        return EtcdResult(status: 201, json: .object(members), host: host)
    }

    func get(_ key: String) throws -> EtcdResult {
        let name = "/" + key
        let (json, host) = try call("/v3/kv/range", .object([("key", b64(name))]))
        guard let kv = json["kvs"]?.arrayValue?.first else {
            return EtcdResult(status: 404, json: V2Node.keyNotFound(name, index: revision(json["header"]?["revision"])), host: host)
        }
        let node = V2Node.node(key: name, value: text(kv["value"]), modified: revision(kv["mod_revision"]), created: revision(kv["create_revision"]))
        return EtcdResult(status: 200, json: .object([("action", .string("get")), ("node", node)]), host: host)
    }

    func list() throws -> EtcdResult {
        let (json, host) = try call("/v3/kv/range", .object([("key", b64("/")), ("range_end", b64("0")), ("limit", .int(10_000))]))
        let nodes: [JSON] = (json["kvs"]?.arrayValue ?? []).map { kv in
            V2Node.node(key: text(kv["key"]), value: text(kv["value"]), modified: revision(kv["mod_revision"]), created: revision(kv["create_revision"]))
        }
        var node: [(String, JSON)] = [("dir", .bool(true))]
        if !nodes.isEmpty { node.append(("nodes", .array(nodes))) }
        return EtcdResult(status: 200, json: .object([("action", .string("get")), ("node", .object(node))]), host: host)
    }

    func delete(_ key: String) throws -> EtcdResult {
        let name = "/" + key
        let (json, host) = try call("/v3/kv/deleterange", .object([("key", b64(name)), ("prev_kv", .bool(true))]))
        let rev = revision(json["header"]?["revision"])
        guard let prev = json["prev_kvs"]?.arrayValue?.first else {
            return EtcdResult(status: 404, json: V2Node.keyNotFound(name, index: rev), host: host)
        }
        let created = revision(prev["create_revision"])
        return EtcdResult(status: 200, json: .object([
            ("action", .string("delete")), ("node", V2Node.node(key: name, value: nil, modified: rev, created: created)),
            ("prevNode", V2Node.node(key: name, value: text(prev["value"]), modified: revision(prev["mod_revision"]), created: created)),
        ]), host: host)
    }
}

/// etcd's v2 keys API (`/v2/keys/...`), for clusters that still serve it (3.4/3.5 with --enable-v2).
struct EtcdV2Store: EtcdStore {
    let endpoints: EtcdEndpoints

    private func call(_ method: HTTPMethod, _ path: String, form: String? = nil) throws -> EtcdResult {
        var headers: HTTPHeaders = ["Accept": "application/json"]
        var body: [UInt8] = []
        if let form {
            headers.add("Content-Type", "application/x-www-form-urlencoded")
            body = Array(form.utf8)
        }
        let (response, host) = try endpoints.send(method, path, headers: headers, body: body)
        guard let json = try? JSON.parse(response.body), json.isObject else {
            if response.status.code == 404 {
                throw HTTPError(.badGateway, "etcd at \(host) does not serve the v2 keys API (start it with --enable-v2, or set ETCD_API=v3)")
            }
            throw HTTPError(.badGateway, "etcd at \(host) answered \(response.status.code) with no JSON")
        }
        return EtcdResult(status: response.status.code, json: json, host: host)
    }

    func put(_ key: String, _ value: String) throws -> EtcdResult {
        var result = try call(.put, "/v2/keys/" + encode(key), form: "value=" + URI.percentEncode(value))
        if result.status == 200 { result.status = 201 }
        return result
    }

    func get(_ key: String) throws -> EtcdResult { try call(.get, "/v2/keys/" + encode(key) + "?recursive=true") }
    func list() throws -> EtcdResult { try call(.get, "/v2/keys/?recursive=true") }
    func delete(_ key: String) throws -> EtcdResult { try call(.delete, "/v2/keys/" + encode(key) + "?recursive=true") }

    /// Each path segment percent-encoded, so `?`, `#` and spaces reach etcd as part of the key.
    private func encode(_ key: String) -> String {
        key.split(separator: "/", omittingEmptySubsequences: false).map { URI.percentEncode(String($0)) }.joined(separator: "/")
    }
}
