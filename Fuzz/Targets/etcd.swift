@testable import HTTPKit
@testable import SystemKit
@testable import StorageApp

/// The storage app's reading of etcd's v3 answers (range, put, delete, list). Any text as the answer gives a 502
/// (a throw) or a result whose body is valid JSON; a genuine range answer for a key and value taken from the input
/// gives back that key and value.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEtcd(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    let name = "/nodeAppTesting"
    let results = [
        try? EtcdV3Store.rangeResult(input.bytes, name: name, host: "etcd"),
        try? EtcdV3Store.putResult(input.bytes, name: name, value: "v", host: "etcd"),
        try? EtcdV3Store.deleteResult(input.bytes, name: name, host: "etcd"),
        try? EtcdV3Store.listResult(input.bytes, host: "etcd"),
    ]
    for case let result? in results {
        require([200, 201, 404].contains(result.status), "status \(result.status)")
        require((try? JSON.parse(result.body)) != nil, "invalid JSON: \(String(decoding: result.body, as: UTF8.self))")
    }

    let point = input.splitPoint
    let key = "/" + String(decoding: input.bytes[..<point], as: UTF8.self)
    let value = String(decoding: input.bytes[point...], as: UTF8.self)
    let revision = String(input.choice(1 << 40, salt: 8))
    let answer = JSON.object([
        ("header", .object([("cluster_id", .string("14841639068965178418")), ("revision", .string(revision))])),
        (
            "kvs",
            .array([
                .object([
                    ("key", .string(Base64.encode(Array(key.utf8)))), ("create_revision", .string("2")),
                    ("mod_revision", .string(revision)), ("version", .string("1")),
                    ("value", .string(Base64.encode(Array(value.utf8)))),
                ])
            ])
        ),
        ("count", .string("1")),
    ])
    guard let read = try? EtcdV3Store.rangeResult(answer.bytes(), name: key, host: "etcd"),
        let node = (try? JSON.parse(read.body))?["node"]
    else {
        require(false, "a genuine range answer was refused")
        return 0
    }
    require(read.status == 200 && node["key"] == .string(key) && node["value"] == .string(value), "read \(node)")
    require(node["modifiedIndex"] == .number(revision), "modifiedIndex \(String(describing: node["modifiedIndex"]))")
    return 0
}
