import HTTPKit
@testable import StorageApp
import Testing
import SystemKit
import ServiceKit

/// The storage app's reading of etcd's v3 answers, including inputs the fuzzer found (Fuzz/Corpus/etcd/finding-*).
@Suite struct EtcdAnswerTests {
    func node(_ result: EtcdResult) throws -> JSON? { try JSON.parse(result.body)["node"] }

    @Test func aRangeAnswerBecomesAV2Node() throws {
        let answer =
            #"{"header":{"revision":"5"},"kvs":[{"key":"L2E=","create_revision":"2","mod_revision":"5","value":"eA=="}]}"#
        let result = try EtcdV3Store.rangeResult(Array(answer.utf8), name: "/a", host: "etcd")
        #expect(result.status == 200)
        #expect(try node(result) == JSON.parse(#"{"key":"/a","value":"x","modifiedIndex":5,"createdIndex":2}"#))
    }

    /// Found by the fuzzer: `Int` accepts "+5" and "07", and the revision went out as `+5` or `07`, which are not
    /// JSON numbers.
    @Test(arguments: ["+5", "07", "00", "-1", "", "5x", "1e3", "99999999999999999999"])
    func revisionsThatAreNotPlainDigitsBecomeZero(_ revision: String) throws {
        let answer = #"{"kvs":[{"mod_revision":"\#(revision)","create_revision":"\#(revision)"}]}"#
        let result = try EtcdV3Store.rangeResult(Array(answer.utf8), name: "/a", host: "etcd")
        #expect(try node(result)?["modifiedIndex"] == .number("0"))
        #expect(try node(result)?["createdIndex"] == .number("0"))
    }

    @Test func answersThatAreNotJSONThrow() {
        for text in ["", "{", "<html>", #"{"kvs":[}"#] {
            #expect(throws: (any Error).self) { try EtcdV3Store.rangeResult(Array(text.utf8), name: "/a", host: "e") }
            #expect(throws: (any Error).self) { try EtcdV3Store.listResult(Array(text.utf8), host: "e") }
        }
    }

    @Test func deletingAMissingKeyIs404() throws {
        let result = try EtcdV3Store.deleteResult(Array(#"{"header":{"revision":"3"}}"#.utf8), name: "/a", host: "e")
        #expect(result.status == 404)
        #expect(try JSON.parse(result.body)["index"] == .number("3"))
    }
}
