import Foundation
import HTTPKit
import Testing
import TestSupport
import SystemKit
import ServiceKit

/// Against a real etcd that the harness starts. In CI a missing etcd is a failure, not a skip.
let etcdAvailable = EtcdProcess.executable != nil || ProcessInfo.processInfo.environment["CI"] != nil

@Suite(.serialized, .enabled(if: etcdAvailable, "etcd is not installed (scripts/test.sh installs it)"))
struct StorageEtcdTests {
    let client = HTTPClient()

    func put(_ app: ServiceProcess, _ key: String, _ value: String) throws -> ClientResponse {
        try client.request(
            .put, app.baseURL + "/storage", headers: ["Content-Type": "application/json"],
            body: Array(#"{"key": \#(JSON.quoted(key)), "value":\#(JSON.quoted(value))}"#.utf8), timeout: 5)
    }

    @Test(arguments: ["v3", "v2"])
    func theDemoCurlSequence(_ api: String) throws {
        let etcd = try EtcdProcess()
        let app = try ServiceProcess("storage-app", ["ETCD_ENDPOINTS": etcd.url, "ETCD_API": api])
        defer { app.stop() }
        let ping = try client.get(app.baseURL + "/", timeout: 5)
        #expect(ping.bodyText == "Simple test for liveliness of the application!")
        let created = try put(app, "istioTestNode", "Testing Istio using NodePort")
        #expect(created.status == .created)
        let prefix =
            #"nodeAppTesting created(127.0.0.1) ->{"key":"istioTestNode","value":"Testing Istio using "#
            + #"NodePort"}:{"action":"set","node":{"key":"/istioTestNode","value":"Testing Istio using "#
            + #"NodePort","modifiedIndex":"#
        #expect(created.bodyText.hasPrefix(prefix), "\(created.bodyText)")
        let read = try client.get(app.baseURL + "/storage/istioTestNode", timeout: 5)
        #expect(read.status == .ok)
        #expect(read.headers["Content-Type"] == "text/plain; charset=utf-8")
        #expect(
            read.bodyText.hasPrefix(
                #"nodeAppTesting(127.0.0.1) ->{"action":"get","node":{"key":"/istioTestNode","value":"Testing Istio "#
                    + #"using NodePort","modifiedIndex":"#
            ))
        let again = try put(app, "istioTestNode", "second")
        #expect(again.status == .created)
        #expect(again.bodyText.contains(#""prevNode":{"key":"/istioTestNode","value":"Testing Istio using NodePort""#))
        let asJSON = try client.get(
            app.baseURL + "/storage/istioTestNode", headers: ["Accept": "application/json"], timeout: 5)
        #expect(asJSON.headers["Content-Type"] == "application/json")
        #expect(try JSON.parse(asJSON.body)["node"]?["value"]?.stringValue == "second")
        let putJSON = try client.request(
            .put, app.baseURL + "/storage",
            headers: ["Content-Type": "application/json", "Accept": "application/json"],
            body: Array(#"{"key":"istioTestNode","value":"third"}"#.utf8), timeout: 5)
        #expect(putJSON.status == .created)
        let set = try JSON.parse(putJSON.body)
        #expect(set["action"]?.stringValue == "set")
        #expect(set["prevNode"]?["value"]?.stringValue == "second")
    }

    @Test(arguments: ["v3", "v2"])
    func listDeleteAndMissingKeys(_ api: String) throws {
        let etcd = try EtcdProcess()
        let app = try ServiceProcess("storage-app", ["ETCD_ENDPOINTS": etcd.url, "ETCD_API": api])
        defer { app.stop() }
        _ = try put(app, "a b?c#d", "odd key")
        _ = try put(app, "plain", "v")
        let list = try JSON.parse(
            try client.get(app.baseURL + "/storage", headers: ["Accept": "application/json"], timeout: 5).body)
        let keys = Set((list["node"]?["nodes"]?.arrayValue ?? []).compactMap { $0["key"]?.stringValue })
        #expect(keys == ["/a b?c#d", "/plain"])
        let odd = try client.get(app.baseURL + "/storage/" + URI.percentEncode("a b?c#d"), timeout: 5)
        #expect(odd.bodyText.contains(#""value":"odd key""#))
        let deleted = try client.request(.delete, app.baseURL + "/storage/plain", timeout: 5)
        #expect(deleted.status == .ok)
        let missing = try client.get(app.baseURL + "/storage/plain", timeout: 5)
        #expect(missing.status == .notFound)
        #expect(
            missing.bodyText.hasPrefix(
                #"nodeAppTesting failed(127.0.0.1) ->{"errorCode":100,"message":"Key not found","cause":"/plain""#))
        #expect(try client.request(.delete, app.baseURL + "/storage/plain", timeout: 5).status == .notFound)
        #expect(try client.get(app.baseURL + "/storage/a/b", timeout: 5).status == .notFound)
        let bad = try client.request(
            .put, app.baseURL + "/storage", headers: ["Content-Type": "application/json"], body: Array("{oops".utf8),
            timeout: 5)
        #expect(bad.status == .badRequest)
        #expect(bad.bodyText.hasPrefix(#"{"error":"malformed JSON"#))
        #expect(!bad.bodyText.contains("\n"))
    }

    @Test func etcdStoppedIs503FastAndRestartKeepsTheData() throws {
        let etcd = try EtcdProcess()
        let app = try ServiceProcess("storage-app", ["ETCD_ENDPOINTS": etcd.url, "ETCD_TIMEOUT": "2s"])
        defer { app.stop() }
        #expect(try put(app, "durable", "kept").status == .created)
        etcd.stop()
        let start = Deadline.now
        let down = try client.get(app.baseURL + "/storage/durable", timeout: 10)
        let elapsed = secondsSince(start)
        #expect(down.status == .serviceUnavailable)
        #expect(down.bodyText.contains(etcd.url))
        #expect(elapsed <= 2.5, "took \(elapsed)s")
        #expect(try put(app, "lost", "x").status == .serviceUnavailable)
        try etcd.start()
        let back = try client.get(app.baseURL + "/storage/durable", timeout: 5)
        #expect(back.status == .ok)
        #expect(back.bodyText.contains(#""value":"kept""#))
    }

    @Test func failsOverFromADeadEndpointToTheRealEtcd() throws {
        let etcd = try EtcdProcess()
        let dead = "http://127.0.0.1:\(freePort())"
        let app = try ServiceProcess("storage-app", ["ETCD_ENDPOINTS": "\(dead),\(etcd.url)"])
        defer { app.stop() }
        #expect(try put(app, "failover", "reached").status == .created)
        let read = try client.get(app.baseURL + "/storage/failover", timeout: 5)
        #expect(read.bodyText.contains(#""value":"reached""#))
        etcd.stop()
        let down = try client.get(app.baseURL + "/storage/failover", timeout: 5)
        #expect(down.status == .serviceUnavailable)
        #expect(down.bodyText.contains(dead) && down.bodyText.contains(etcd.url))
    }

    @Test func everyAcknowledgedWriteIsReadBack() throws {
        let etcd = try EtcdProcess()
        let app = try ServiceProcess("storage-app", ["ETCD_ENDPOINTS": etcd.url])
        defer { app.stop() }
        let acknowledged = Lock<[String: [String]]>([:])
        let group = DispatchGroup()
        for writer in 0..<8 {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                let client = HTTPClient()
                for n in 0..<25 {
                    for (key, value) in [("w\(writer)-\(n)", "v\(n)"), ("shared", "w\(writer)-\(n)")] {
                        let body = Array(#"{"key":"\#(key)","value":"\#(value)"}"#.utf8)
                        if let response = try? client.request(
                            .put, app.baseURL + "/storage", headers: ["Content-Type": "application/json"], body: body,
                            timeout: 5),
                            response.status == .created
                        {
                            acknowledged.withLock { $0[key, default: []].append(value) }
                        }
                    }
                }
            }
        }
        group.wait()
        let acks = acknowledged.withLock { $0 }
        #expect(acks.count == 8 * 25 + 1)
        for (key, values) in acks where key != "shared" {
            let read = try JSON.parse(
                try client.get(app.baseURL + "/storage/\(key)", headers: ["Accept": "application/json"], timeout: 5)
                    .body)
            #expect(read["node"]?["value"]?.stringValue == values.last)
        }
        let shared = try JSON.parse(
            try client.get(app.baseURL + "/storage/shared", headers: ["Accept": "application/json"], timeout: 5).body)
        #expect(acks["shared"]?.count == 200)
        #expect(acks["shared"]?.contains(shared["node"]?["value"]?.stringValue ?? "") == true)
    }
}
