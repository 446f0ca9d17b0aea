import HTTPKit
import ServiceKit
import SystemKit

/// An etcd result in etcd v2's JSON shape (action, node, prevNode), whichever API produced it.
struct EtcdResult {
    var status: Int
    /// The result as compact JSON text.
    var body: [UInt8]
    /// The endpoint host that answered.
    var host: String
}

extension EtcdResult {
    init(status: Int, json: JSON, host: String) {
        self.init(status: status, body: json.bytes(), host: host)
    }
}

/// Reads and writes keys in etcd. Keys are given without a leading slash; results name them `/key`, as v2 does.
/// Each operation is a reply step: `then` gets the result (see `Reply`).
protocol EtcdStore: Sendable {
    typealias Then = @Sendable (EtcdResult) throws -> Reply
    func put(_ key: String, _ value: String, then: @escaping Then) -> Reply
    func get(_ key: String, then: @escaping Then) -> Reply
    func list(then: @escaping Then) -> Reply
    func delete(_ key: String, then: @escaping Then) -> Reply
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

    /// `{"action":"get","node":…}` for one key, as compact JSON text.
    static func getText(key: String, value: String, modified: String, created: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(80 + 2 * (key.utf8.count + value.utf8.count))
        out.append(contentsOf: #"{"action":"get","node":{"key":"#.utf8)
        JSON.writeString(key, to: &out)
        out.append(contentsOf: #","value":"#.utf8)
        JSON.writeString(value, to: &out)
        out.append(contentsOf: #","modifiedIndex":"#.utf8)
        out.append(contentsOf: modified.utf8)
        out.append(contentsOf: #","createdIndex":"#.utf8)
        out.append(contentsOf: created.utf8)
        out.append(contentsOf: "}}".utf8)
        return out
    }

    static func keyNotFound(_ key: String, index: JSON) -> JSON {
        .object([
            ("errorCode", .int(100)), ("message", .string("Key not found")), ("cause", .string(key)), ("index", index),
        ])
    }
}

/// etcd's v3 JSON gateway (`/v3/kv/...`, base64 keys and values), the default: etcd 3.4, 3.5 and 3.6 serve it.
struct EtcdV3Store: EtcdStore {
    let endpoints: EtcdEndpoints

    /// Posts the JSON text `body` to `path`; `result` turns etcd's JSON text (and the host that answered) into the
    /// v2-shaped result that `then` gets. A `result` that finds the text malformed throws, and the client gets a 502.
    private func call(
        _ path: String, _ body: [UInt8], then: @escaping Then,
        result: @escaping @Sendable ([UInt8], String) throws -> EtcdResult
    ) -> Reply {
        endpoints.reply(.post, path, headers: Self.jsonHeaders, body: body) { response, host in
            guard response.status.code == 200, let result = try? result(response.body, host) else {
                throw HTTPError(
                    .badGateway,
                    "etcd at \(host) answered \(response.status.code) "
                        + "to \(path): \(String(response.bodyText.prefix(200)))"
                )
            }
            return try then(result)
        }
    }

    private static let jsonHeaders: HTTPHeaders = ["Content-Type": "application/json"]

    private static func b64(_ text: String) -> JSON { .string(Base64.encode(Array(text.utf8))) }

    func put(_ key: String, _ value: String, then: @escaping Then) -> Reply {
        let name = "/" + key
        let body = JSON.object([("key", Self.b64(name)), ("value", Self.b64(value)), ("prev_kv", .bool(true))])
        return call("/v3/kv/put", body.bytes(), then: then) { text, host in
            try Self.putResult(text, name: name, value: value, host: host)
        }
    }

    func get(_ key: String, then: @escaping Then) -> Reply {
        let name = "/" + key
        var request: [UInt8] = []
        request.reserveCapacity(12 + (name.utf8.count + 2) / 3 * 4)
        request.append(contentsOf: #"{"key":""#.utf8)
        Base64.append(encoding: Array(name.utf8), to: &request)
        request.append(contentsOf: #""}"#.utf8)
        return call("/v3/kv/range", request, then: then) { text, host in
            try Self.rangeResult(text, name: name, host: host)
        }
    }

    func list(then: @escaping Then) -> Reply {
        let body = JSON.object([("key", Self.b64("/")), ("range_end", Self.b64("0")), ("limit", .int(10_000))])
        return call("/v3/kv/range", body.bytes(), then: then) { text, host in try Self.listResult(text, host: host) }
    }

    func delete(_ key: String, then: @escaping Then) -> Reply {
        let name = "/" + key
        let body = JSON.object([("key", Self.b64(name)), ("prev_kv", .bool(true))])
        return call("/v3/kv/deleterange", body.bytes(), then: then) { text, host in
            try Self.deleteResult(text, name: name, host: host)
        }
    }
}

/// etcd's v3 answers as v2 results; each throws for text that is not JSON.
extension EtcdV3Store {
    static func putResult(_ text: [UInt8], name: String, value: String, host: String) throws -> EtcdResult {
        let json = try JSON.parse(text)
        let rev = revision(json["header"]?["revision"])
        var members: [(String, JSON)] = [
            ("action", .string("set")),
            ("node", V2Node.node(key: name, value: value, modified: rev, created: rev)),
        ]
        if let prev = json["prev_kv"] { members.append(("prevNode", node(name, prev))) }
        return EtcdResult(status: 201, json: .object(members), host: host)
    }

    /// Reads only what the result needs from etcd's range answer and writes the v2 result straight out, with no
    /// trees: the read path is the one under load.
    static func rangeResult(_ text: [UInt8], name: String, host: String) throws -> EtcdResult {
        var revision: JSON?, found = false, value: String?, modified: JSON?, created: JSON?
        try JSON.read(text) { reader in
            try reader.readObject { field, reader in
                if field == "header" {
                    try reader.readObject { field, reader in
                        if field == "revision" { revision = try reader.readValue() }
                    }
                } else if field == "kvs" {
                    try reader.readArray { index, reader in
                        guard index == 0 else { return }
                        found = true
                        try reader.readObject { field, reader in
                            if field == "value" {
                                value = try reader.readString()
                            } else if field == "mod_revision" {
                                modified = try reader.readValue()
                            } else if field == "create_revision" {
                                created = try reader.readValue()
                            }
                        }
                    }
                }
            }
        }
        guard found else {
            return EtcdResult(status: 404, json: V2Node.keyNotFound(name, index: Self.revision(revision)), host: host)
        }
        return EtcdResult(
            status: 200,
            body: V2Node.getText(
                key: name, value: Self.text(value), modified: revisionText(modified), created: revisionText(created)),
            host: host)
    }

    static func listResult(_ text: [UInt8], host: String) throws -> EtcdResult {
        let json = try JSON.parse(text)
        let nodes: [JSON] = (json["kvs"]?.arrayValue ?? []).map { kv in node(self.text(kv["key"]), kv) }
        var members: [(String, JSON)] = [("dir", .bool(true))]
        if !nodes.isEmpty { members.append(("nodes", .array(nodes))) }
        return EtcdResult(
            status: 200, json: .object([("action", .string("get")), ("node", .object(members))]), host: host)
    }

    static func deleteResult(_ text: [UInt8], name: String, host: String) throws -> EtcdResult {
        let json = try JSON.parse(text)
        let rev = revision(json["header"]?["revision"])
        guard let prev = json["prev_kvs"]?.arrayValue?.first else {
            return EtcdResult(status: 404, json: V2Node.keyNotFound(name, index: rev), host: host)
        }
        let deleted = V2Node.node(key: name, value: nil, modified: rev, created: revision(prev["create_revision"]))
        return EtcdResult(
            status: 200,
            json: .object([("action", .string("delete")), ("node", deleted), ("prevNode", node(name, prev))]),
            host: host)
    }

    private static func text(_ json: JSON?) -> String { text(json?.stringValue) }

    /// A base64 value as text; etcd leaves `value` out when it is empty.
    private static func text(_ encoded: String?) -> String {
        guard let encoded, let bytes = Base64.decode(encoded) else { return "" }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func revision(_ json: JSON?) -> JSON { .number(revisionText(json)) }

    /// etcd's revisions are int64 in strings; v2's indexes are numbers, written as JSON number text, so only
    /// plain digits pass, without a leading zero (`Int` also takes "+5" and "07", which are not JSON).
    private static func revisionText(_ json: JSON?) -> String {
        guard let text = json?.stringValue, !text.isEmpty, text.utf8.count <= 19,
            text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            text == "0" || text.utf8.first != UInt8(ascii: "0")
        else { return "0" }
        return text
    }

    /// A v3 key-value as a v2 node named `key`.
    private static func node(_ key: String, _ kv: JSON) -> JSON {
        V2Node.node(
            key: key, value: text(kv["value"]), modified: revision(kv["mod_revision"]),
            created: revision(kv["create_revision"]))
    }
}

/// etcd's v2 keys API (`/v2/keys/...`), for clusters that still serve it (3.4/3.5 with --enable-v2).
struct EtcdV2Store: EtcdStore {
    let endpoints: EtcdEndpoints

    private func call(
        _ method: HTTPMethod, _ path: String, form: String? = nil, created: Bool = false, then: @escaping Then
    ) -> Reply {
        var headers: HTTPHeaders = ["Accept": "application/json"]
        var body: [UInt8] = []
        if let form {
            headers.add("Content-Type", "application/x-www-form-urlencoded")
            body = Array(form.utf8)
        }
        return endpoints.reply(method, path, headers: headers, body: body) { response, host in
            guard let json = try? JSON.parse(response.body), json.isObject else {
                if response.status.code == 404 {
                    throw HTTPError(
                        .badGateway,
                        "etcd at \(host) does not serve the v2 keys API (start it with --enable-v2, or set ETCD_API=v3)"
                    )
                }
                throw HTTPError(.badGateway, "etcd at \(host) answered \(response.status.code) with no JSON")
            }
            let status = created && response.status.code == 200 ? 201 : response.status.code
            return try then(EtcdResult(status: status, json: json, host: host))
        }
    }

    func put(_ key: String, _ value: String, then: @escaping Then) -> Reply {
        call(.put, "/v2/keys/" + encode(key), form: "value=" + URI.percentEncode(value), created: true, then: then)
    }

    func get(_ key: String, then: @escaping Then) -> Reply {
        call(.get, "/v2/keys/" + encode(key) + "?recursive=true", then: then)
    }
    func list(then: @escaping Then) -> Reply { call(.get, "/v2/keys/?recursive=true", then: then) }
    func delete(_ key: String, then: @escaping Then) -> Reply {
        call(.delete, "/v2/keys/" + encode(key) + "?recursive=true", then: then)
    }

    /// Each path segment percent-encoded, so `?`, `#` and spaces reach etcd as part of the key.
    private func encode(_ key: String) -> String {
        key.split(separator: "/", omittingEmptySubsequences: false).map { URI.percentEncode(String($0)) }.joined(
            separator: "/")
    }
}
