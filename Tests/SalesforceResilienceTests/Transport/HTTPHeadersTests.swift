import SalesforceResilience
import Testing

@Suite struct HTTPHeadersTests {
    @Test func lookupIgnoresCase() {
        let headers: HTTPHeaders = ["Retry-After": "5", "sforce-limit-info": "api-usage=1/100"]
        #expect(headers["retry-after"] == "5")
        #expect(headers["RETRY-AFTER"] == "5")
        #expect(headers["Sforce-Limit-Info"] == "api-usage=1/100")
        #expect(headers["Missing"] == nil)
    }

    @Test func settingReplacesEveryFieldOfThatNameAndNilRemoves() {
        var headers = HTTPHeaders()
        headers.add(name: "X-A", value: "1")
        headers.add(name: "x-a", value: "2")
        #expect(headers.values(for: "X-A") == ["1", "2"])
        headers["X-a"] = "3"
        #expect(headers.values(for: "x-a") == ["3"])
        headers["X-A"] = nil
        #expect(!headers.contains("x-a"))
        #expect(headers.count == 0)
    }

    @Test func methodIdempotencyFollowsHTTPSemantics() {
        #expect(HTTPMethod.get.isIdempotentByDefault)
        #expect(HTTPMethod.delete.isIdempotentByDefault)
        #expect(!HTTPMethod.post.isIdempotentByDefault)
        #expect(!HTTPMethod.patch.isIdempotentByDefault)
        #expect(HTTPMethod(rawValue: "patch") == .patch)
    }
}
