import HTTPKit
@testable import StorageApp
import Testing
import TestSupport
import SystemKit
import ServiceKit

@Suite struct StorageAppTests {
    let limits = StorageApp.KeyLimits(maxKey: 16, maxValue: 8)

    func put(_ body: String, type: String? = "application/json") -> Result<(String, String), HTTPError> {
        var headers = HTTPHeaders()
        if let type { headers.add("Content-Type", type) }
        do {
            let (key, value, _) = try StorageApp.parsePut(
                Request(method: .put, target: "/storage", headers: headers, body: Array(body.utf8)), limits: limits)
            return .success((key, value))
        } catch let error as HTTPError {
            return .failure(error)
        } catch {
            return .failure(HTTPError(.internalServerError))
        }
    }

    @Test func valuesAreStoredAsText() throws {
        #expect(try put(#"{"key":"a","value":"x"}"#).get() == ("a", "x"))
        #expect(try put(#"{"key":"/a","value":42}"#).get() == ("a", "42"))
        #expect(try put(#"{"key":"a","value":null}"#).get() == ("a", ""))
        #expect(try put(#"{"key":"a"}"#, type: nil).get() == ("a", ""))
        #expect(try put(#"{"key":"a b?c#d","value":true}"#).get() == ("a b?c#d", "true"))
    }

    @Test(arguments: [
        (#"{bad"#, 400), (#"[1]"#, 400), (#"{"key":1}"#, 400), (#"{"key":""}"#, 400), (#"{"key":"/"}"#, 400),
        (#"{"key":"a\u0001"}"#, 400), (#"{"key":"aaaaaaaaaaaaaaaaa"}"#, 400), (#"{"key":"a","value":{"x":1}}"#, 400),
        (#"{"key":"a","value":"123456789"}"#, 413),
    ])
    func badInputIsA4xx(_ body: String, _ status: Int) {
        guard case .failure(let error) = put(body) else {
            Issue.record("accepted \(body)")
            return
        }
        #expect(error.status.code == status)
        #expect(!error.message.contains("\n"))
    }

    @Test func formBodiesAreRefusedClearly() {
        guard case .failure(let error) = put("key=a&value=b", type: "application/x-www-form-urlencoded") else {
            Issue.record("accepted a form")
            return
        }
        #expect(error.status == .unsupportedMediaType)
    }

    @Test func anEtcdWithoutV2IsNamed() throws {
        let fake = try TestServer { _ in
            Response(status: .notFound, contentType: "text/plain", body: "404 page not found\n")
        }
        defer { fake.stop() }
        let service = try ServiceUnderTest(
            StorageApp.definition, .router, ["ETCD_API": "v2", "ETCD_ENDPOINTS": fake.baseURL])
        let response = get(service, "/storage/a")
        #expect(response.status == .badGateway)
        #expect(response.bodyText.contains("does not serve the v2 keys API"))
    }

    @Test func badEndpointsAreConfigErrors() {
        for value in ["etcd:2379", "https://etcd:2379", "http://etcd:2379/path", " , "] {
            #expect(throws: SettingError.self) {
                _ = try StorageApp.makeRouter(
                    try ServiceContext(
                        testing: "storage-app", table: StorageApp.table, environment: ["ETCD_ENDPOINTS": value]))
            }
        }
    }

    @Test func failoverToTheNextEndpoint() throws {
        let good = try TestServer { request in
            #expect(request.path == "/v3/kv/range")
            return .json(
                #"{"header":{"revision":"7"},"kvs":[{"key":"L2E=","value":"eA==","create_revision":"5","#
                    + #""mod_revision":"6"}],"count":"1"}"#
            )
        }
        defer { good.stop() }
        let deadPort = freePort()
        let service = try ServiceUnderTest(
            StorageApp.definition, .router, ["ETCD_ENDPOINTS": "http://127.0.0.1:\(deadPort),\(good.baseURL)"])
        let response = get(service, "/storage/a")
        #expect(
            response.bodyText
                == #"nodeAppTesting(127.0.0.1) ->{"action":"get","node":{"key":"/a","value":"x","modifiedIndex":6,"#
                + #""createdIndex":5}}"#
        )
    }

    /// etcd's range answer as the read path takes it apart: a missing key is etcd v2's 404 with the revision as its
    /// index; anything malformed is a 502 naming etcd, never a guess.
    @Test(arguments: [
        (
            #"{"header":{"cluster_id":"1","revision":"9"},"count":"0"}"#, 404,
            #"{"errorCode":100,"message":"Key not found","cause":"/a","index":9}"#
        ),
        (
            #"{"header":{"revision":"9"},"kvs":[{"key":"L2E=","create_revision":"5","mod_revision":"6","#
                + #""version":"1"}],"count":"1"}"#,
            200,
            #"{"action":"get","node":{"key":"/a","value":"","modifiedIndex":6,"createdIndex":5}}"#
        ),
        (
            #"{"kvs":[{"value":"eA==","create_revision":"5","mod_revision":"6"},{"value":"eQ=="}],"more":true}"#, 200,
            #"{"action":"get","node":{"key":"/a","value":"x","modifiedIndex":6,"createdIndex":5}}"#
        ),
        (#"{"header":{"revision":"9"},"kvs":{}}"#, 502, nil), (#"{"kvs":[{"value":1}]}"#, 502, nil),
        (#"{"header":{"revision":"9""#, 502, nil),
        (#"{"kvs":[]} x"#, 502, nil), (#"{"kvs":[{"value":"eA==",}]}"#, 502, nil),
    ])
    func etcdRangeAnswers(_ body: String, _ status: Int, _ expected: String?) throws {
        let fake = try TestServer { _ in .json(body) }
        defer { fake.stop() }
        let service = try ServiceUnderTest(StorageApp.definition, .router, ["ETCD_ENDPOINTS": fake.baseURL])
        let response = get(service, "/storage/a", headers: ["Accept": "application/json"])
        #expect(response.status.code == status)
        if let expected {
            #expect(response.bodyText == expected)
        } else {
            #expect(response.bodyText.contains("etcd at 127.0.0.1 answered 200"))
        }
    }

    /// The read path writes its result as text; it must be the text the tree of the other operations serialises to.
    @Test(arguments: [("/a", "x"), ("/k\"ey", "line\nbreak \u{1} \\ é 😀"), ("/ü", ""), ("/<b>", "</script>")])
    func getTextMatchesTheTree(_ key: String, _ value: String) {
        let tree = JSON.object([
            ("action", .string("get")),
            ("node", V2Node.node(key: key, value: value, modified: .number("12"), created: .number("3"))),
        ])
        #expect(V2Node.getText(key: key, value: value, modified: "12", created: "3") == tree.bytes())
    }
}
