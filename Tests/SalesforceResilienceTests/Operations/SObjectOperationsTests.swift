import Foundation
import SalesforceResilience
import SalesforceResilienceTesting
import Testing

struct Payment: Codable, Sendable, Equatable {
    var Amount__c: Double
    var Customer__c: String
}

struct PaymentWithReference: Codable, Sendable, Equatable {
    var Reference__c: String
    var Amount__c: Double
}

@Suite struct SObjectOperationsTests {
    let payment = Payment(Amount__c: 12.5, Customer__c: "C-1")

    @Test func upsertCreatedIs201WithTheId() async throws {
        let transport = MockTransport(responses: [.success(.json(201, #"{"id":"a01000000000001AAA","success":true,"errors":[],"created":true}"#))])
        let result = try await makeClient(transport).upsert("Payment__c", externalIdField: "Reference__c", value: "PAY-000001", fields: payment)
        #expect(result == UpsertResult(id: "a01000000000001AAA", created: true))
        let request = try #require(transport.requests.first)
        #expect(request.method == .patch)
        #expect(request.url.absoluteString == "https://acme.my.salesforce.com/services/data/v62.0/sobjects/Payment__c/Reference__c/PAY-000001")
        #expect(request.headers["Authorization"] == "Bearer 00D000000000001!STATICTOKEN")
        #expect(try JSONDecoder().decode(Payment.self, from: try #require(request.body)) == payment)
        #expect((request.jsonObject as? [String: Any])?.keys.sorted() == ["Amount__c", "Customer__c"])
    }

    @Test func upsertUpdatedIs200WithCreatedFalse() async throws {
        let transport = MockTransport(responses: [.success(.json(200, #"{"id":"a01000000000001AAA","success":true,"errors":[],"created":false}"#))])
        let result = try await makeClient(transport).upsert("Payment__c", externalIdField: "Reference__c", value: "PAY-1", fields: payment)
        #expect(result == UpsertResult(id: "a01000000000001AAA", created: false))
    }

    @Test func upsertUpdatedAs204WithoutABodyIsAccepted() async throws {
        let transport = MockTransport(responses: [.success(.status(204))])
        let result = try await makeClient(transport).upsert("Payment__c", externalIdField: "Reference__c", value: "PAY-1", fields: payment)
        #expect(result == UpsertResult(id: nil, created: false))
    }

    @Test func upsertMatchingSeveralRecordsListsThem() async throws {
        let body = #"["/services/data/v62.0/sobjects/Payment__c/a01A","/services/data/v62.0/sobjects/Payment__c/a01B"]"#
        let transport = MockTransport(responses: [.success(.json(300, body))])
        let error = await #expect(throws: SalesforceClientError.self) {
            try await makeClient(transport).upsert("Payment__c", externalIdField: "Reference__c", value: "PAY-1", fields: payment)
        }
        #expect(error == .multipleMatches(operation: "upsert Payment__c", recordURLs: ["/services/data/v62.0/sobjects/Payment__c/a01A", "/services/data/v62.0/sobjects/Payment__c/a01B"]))
        #expect(transport.requestCount == 1)
    }

    @Test func externalIdValuesCannotChangeTheURL() async throws {
        let transport = MockTransport { _ in .json(201, #"{"id":"a01000000000001AAA","success":true,"errors":[],"created":true}"#) }
        let client = try makeClient(transport)
        let hostile = ["a/b", "x?y=1", "frag#ment", "100%", "two words", "../../sobjects/Account/001", "é✓"]
        for value in hostile {
            _ = try await client.upsert("Payment__c", externalIdField: "Reference__c", value: value, fields: payment)
        }
        let base = "https://acme.my.salesforce.com/services/data/v62.0/sobjects/Payment__c/Reference__c/"
        #expect(transport.requests.map(\.url.absoluteString) == [
            base + "a%2Fb", base + "x%3Fy%3D1", base + "frag%23ment", base + "100%25", base + "two%20words",
            base + "..%2F..%2Fsobjects%2FAccount%2F001", base + "%C3%A9%E2%9C%93",
        ])
        #expect(transport.requests.allSatisfy { $0.url.query == nil && $0.url.fragment == nil })
    }

    @Test func emptyExternalIdAndBadNamesAreRefusedBeforeSending() async throws {
        let transport = MockTransport()
        let client = try makeClient(transport)
        await #expect(throws: SalesforceClientError.self) { try await client.upsert("Payment__c", externalIdField: "Reference__c", value: "", fields: payment) }
        await #expect(throws: SalesforceClientError.self) { try await client.upsert("Payment__c/../Account", externalIdField: "Reference__c", value: "x", fields: payment) }
        await #expect(throws: SalesforceClientError.self) { try await client.upsert("Payment__c", externalIdField: "Ref?x", value: "x", fields: payment) }
        await #expect(throws: SalesforceClientError.self) { try await client.delete("Account", id: "001/../x") }
        #expect(transport.requestCount == 0)
    }

    @Test func upsertIsRetriedAfterAnAmbiguousFailure() async throws {
        let transport = MockTransport(responses: [
            .failure(TransportError.ambiguous(.timedOut, "timeout")),
            .success(.json(200, #"{"id":"a01000000000001AAA","success":true,"errors":[],"created":false}"#)),
        ])
        let result = try await makeClient(transport).upsert("Payment__c", externalIdField: "Reference__c", value: "PAY-1", fields: payment)
        #expect(result.created == false)
        #expect(transport.requestCount == 2)
    }

    @Test func createIsNotRetriedAfterAnAmbiguousFailure() async throws {
        let transport = MockTransport(responses: [.failure(TransportError.ambiguous(.timedOut, "timeout")), .success(.json(201, #"{"id":"x","success":true,"errors":[]}"#))])
        await #expect(throws: TransportError.self) { try await makeClient(transport).create("Payment__c", fields: payment) }
        #expect(transport.requestCount == 1)
    }

    @Test func createPostsAndReturnsTheId() async throws {
        let transport = MockTransport(responses: [.success(.json(201, #"{"id":"a01000000000002AAA","success":true,"errors":[]}"#))])
        let result = try await makeClient(transport).create("Payment__c", fields: payment)
        #expect(result == SaveResult(id: "a01000000000002AAA", success: true))
        #expect(transport.requests.first?.method == .post)
        #expect(transport.requests.first?.url.path == "/services/data/v62.0/sobjects/Payment__c")
    }

    @Test func createValidationErrorIsTypedWithFields() async throws {
        let transport = MockTransport(responses: [.success(.salesforceError(400, code: "REQUIRED_FIELD_MISSING", message: "Required fields are missing: [Customer__c]", fields: ["Customer__c"]))])
        let error = await #expect(throws: SalesforceError.self) { try await makeClient(transport).create("Payment__c", fields: payment) }
        #expect(error?.fields == ["Customer__c"])
        #expect(error?.action == .fixTheCode)
    }

    @Test func getDecodesTheRecordAndAsksForFields() async throws {
        let transport = MockTransport(responses: [.success(.json(200, #"{"attributes":{"type":"Payment__c","url":"/x"},"Amount__c":12.5,"Customer__c":"C-1"}"#))])
        let record = try await makeClient(transport).get("Payment__c", id: "a01000000000001AAA", fields: ["Amount__c", "Customer__c"], as: Payment.self)
        #expect(record == payment)
        #expect(transport.requests.first?.url.absoluteString == "https://acme.my.salesforce.com/services/data/v62.0/sobjects/Payment__c/a01000000000001AAA?fields=Amount__c,Customer__c")
    }

    @Test func getNotFoundIsTyped() async throws {
        let transport = MockTransport(responses: [.success(.salesforceError(404, code: "NOT_FOUND", message: "The requested resource does not exist"))])
        let error = await #expect(throws: SalesforceError.self) { try await makeClient(transport).get("Payment__c", id: "a01000000000001AAA", as: Payment.self) }
        #expect(error?.status == 404)
        #expect(error?.category == .clientError)
    }

    @Test func aTruncatedSuccessBodyIsATypedError() async throws {
        let transport = MockTransport(responses: [.success(.json(200, #"{"attributes":{"type":"Payment__c"},"Amount__"#))])
        let error = await #expect(throws: SalesforceClientError.self) { try await makeClient(transport).get("Payment__c", id: "a01000000000001AAA", as: Payment.self) }
        guard case .unexpectedResponse(let operation, let detail)? = error else { Issue.record("wrong case"); return }
        #expect(operation == "get Payment__c")
        #expect(detail.contains("Amount__"))
    }

    @Test func updateAndDeleteSendTheRightRequests() async throws {
        let transport = MockTransport(responses: [.success(.status(204)), .success(.status(204))])
        let client = try makeClient(transport)
        try await client.update("Payment__c", id: "a01000000000001AAA", fields: payment)
        try await client.delete("Payment__c", id: "a01000000000001", priority: .critical)
        #expect(transport.requests.map(\.method) == [.patch, .delete])
        #expect(transport.requests.map(\.url.path) == ["/services/data/v62.0/sobjects/Payment__c/a01000000000001AAA", "/services/data/v62.0/sobjects/Payment__c/a01000000000001"])
    }

    @Test func theTokensInstanceURLBecomesTheBase() async throws {
        let transport = MockTransport { request in
            request.url.path.hasSuffix("oauth2/token") ? tokenResponse("T", instance: "https://na99.my.salesforce.com") : .status(204)
        }
        let provider = OAuthTokenProvider(loginURL: URL(string: "https://login.salesforce.com")!, grant: .clientCredentials(clientID: "c", clientSecret: "s"), transport: transport, clock: VirtualClock())
        let client = try makeClient(transport, tokenProvider: provider)
        try await client.delete("Payment__c", id: "a01000000000001")
        #expect(transport.requests.last?.url.host == "na99.my.salesforce.com")
    }
}
