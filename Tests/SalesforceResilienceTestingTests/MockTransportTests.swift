import Foundation
import SalesforceResilience
import SalesforceResilienceTesting
import Testing

@Suite struct MockTransportTests {
    let url = URL(string: "https://x.example.com/a")!

    @Test func answersFromTheScriptInOrderAndRecordsRequests() async throws {
        let transport = MockTransport(responses: [.success(.status(503)), .failure(TransportError.notSent(.dnsFailure, "dns"))])
        transport.enqueue(.success(.json(200, "{}")))
        #expect(try await transport.send(HTTPRequest(method: .get, url: url)).status == 503)
        await #expect(throws: TransportError.self) { try await transport.send(HTTPRequest(method: .post, url: url)) }
        #expect(try await transport.send(HTTPRequest(method: .patch, url: url)).status == 200)
        #expect(transport.requests.map(\.method) == [.get, .post, .patch])
    }

    @Test func anExhaustedScriptWithoutFallbackThrows() async throws {
        let transport = MockTransport()
        await #expect(throws: MockTransportError.self) { try await transport.send(HTTPRequest(method: .get, url: url)) }
    }

    @Test func responseHelpersBuildSalesforceShapes() throws {
        let error = HTTPResponse.salesforceError(400, code: "INVALID_FIELD", message: "bad", fields: ["F"])
        #expect(OutcomeClassifier.parseErrors(error.body) == [SalesforceAPIError(message: "bad", errorCode: "INVALID_FIELD", fields: ["F"])])
        #expect(HTTPResponse.status(503, retryAfter: "5").headers["retry-after"] == "5")
        #expect(HTTPResponse.html(502).headers["content-type"] == "text/html")
    }

    @Test func eventRecorderKeepsEventsInOrder() {
        let recorder = EventRecorder()
        recorder.sink.emit(.attemptStarted(operation: "a", attempt: 1))
        recorder.sink.emit(.attemptStarted(operation: "a", attempt: 2))
        #expect(recorder.events == [.attemptStarted(operation: "a", attempt: 1), .attemptStarted(operation: "a", attempt: 2)])
        recorder.clear()
        #expect(recorder.events.isEmpty)
    }
}
