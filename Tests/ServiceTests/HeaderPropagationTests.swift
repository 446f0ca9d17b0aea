import Bookinfo
import HTTPKit
import Testing
import SystemKit
import ServiceKit

/// Bookinfo's tracing and routing headers, copied from each inbound request to its outbound calls.
@Suite struct HeaderPropagationTests {
    @Test func copiesTheListVerbatimAndReplacesEndUser() {
        let incoming: HTTPHeaders = [
            "X-Request-Id": "r1", "X-B3-TraceId": "80f198ee56343ba8", "x-b3-flags": "1", "traceparent": "00-abc-def-01",
            "User-Agent": "ua", "end-user": "mallory", "X-Other": "no", "b3": "a-b-1",
        ]
        let out = HeaderPropagation.outgoing(from: incoming, endUser: .some("jason"))
        #expect(out["x-request-id"] == "r1")
        #expect(out["x-b3-traceid"] == "80f198ee56343ba8")
        #expect(out["x-b3-flags"] == "1")
        #expect(out["b3"] == "a-b-1")
        #expect(out["user-agent"] == "ua")
        #expect(out.values("end-user") == ["jason"])
        #expect(out["x-other"] == nil)
        #expect(HeaderPropagation.outgoing(from: incoming)["end-user"] == "mallory")
        #expect(HeaderPropagation.outgoing(from: incoming, endUser: .some(nil))["end-user"] == nil)
    }
}
