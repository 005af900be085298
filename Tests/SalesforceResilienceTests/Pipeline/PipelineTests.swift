import Foundation
import SalesforceResilience
import SalesforceResilienceTesting
import Testing

@Suite struct PipelineTests {
    struct Tag: Middleware {
        let name: String
        let box: Box
        func intercept(_ request: HTTPRequest, context: RequestContext, next: MiddlewareNext) async throws -> HTTPResponse {
            box.log.withLock { $0.append("→\(name)") }
            var request = request
            request.headers.add(name: "X-Chain", value: name)
            defer { box.log.withLock { $0.append("←\(name)") } }
            return try await next(request, context)
        }
    }

    final class Box: Sendable { let log = Lock<[String]>([]) }

    @Test func middlewareRunsOutermostFirstAndUnwindsInReverse() async throws {
        let box = Box()
        let transport = MockTransport { _ in .status(200) }
        let pipeline = Pipeline(middleware: [Tag(name: "a", box: box), Tag(name: "b", box: box)], transport: transport)
        _ = try await pipeline.send(makeRequest(), context: makeContext())
        #expect(box.log.withLock { $0 } == ["→a", "→b", "←b", "←a"])
        #expect(transport.requests.first?.headers.values(for: "x-chain") == ["a", "b"])
    }

    @Test func failedResponsesBecomeTypedErrorsCarryingTheOperation() async throws {
        let transport = MockTransport { _ in .salesforceError(400, code: "INVALID_FIELD", message: "No such column", fields: ["Foo__c"]) }
        let pipeline = Pipeline(middleware: [], transport: transport)
        let error = await #expect(throws: SalesforceError.self) {
            try await pipeline.send(makeRequest(), context: makeContext(operation: "query Account"))
        }
        #expect(error?.operation == "query Account")
        #expect(error?.fields == ["Foo__c"])
        #expect(error?.category == .clientError)
    }

    @Test func successfulResponsesPassThroughUntouched() async throws {
        let transport = MockTransport { _ in .json(201, #"{"id":"a01","success":true}"#) }
        let response = try await Pipeline(middleware: [], transport: transport).send(makeRequest(.post), context: makeContext())
        #expect(response.status == 201)
        #expect(String(decoding: response.body, as: UTF8.self) == #"{"id":"a01","success":true}"#)
    }

    @Test func contextForRequestFollowsTheMethod() {
        #expect(RequestContext.forRequest(makeRequest(.get)).isIdempotent)
        #expect(!RequestContext.forRequest(makeRequest(.post)).isIdempotent)
        #expect(RequestContext.forRequest(makeRequest(.get, path: "/a/b")).operation == "GET /a/b")
        #expect(RequestContext.Priority.normal < .critical)
    }
}
