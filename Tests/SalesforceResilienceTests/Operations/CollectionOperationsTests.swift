import Foundation
import SalesforceResilience
import SalesforceResilienceTesting
import Testing

@Suite struct CollectionOperationsTests {
    /// Answers each collections call per record: references ending in 7 fail with DUPLICATE_VALUE.
    static func answer(_ request: HTTPRequest) -> HTTPResponse {
        let records = ((request.jsonObject as? [String: Any])?["records"] as? [[String: Any]]) ?? []
        let items = records.map { record -> String in
            let reference = record["Reference__c"] as? String ?? ""
            if reference.hasSuffix("7") {
                return #"{"success":false,"errors":[{"statusCode":"DUPLICATE_VALUE","message":"duplicate \#(reference)","fields":["Reference__c"]}]}"#
            }
            return #"{"id":"id-\#(reference)","success":true,"errors":[],"created":true}"#
        }
        return .json(200, "[" + items.joined(separator: ",") + "]")
    }

    func records(_ count: Int) -> [PaymentWithReference] {
        (1...count).map { PaymentWithReference(Reference__c: "PAY-\($0)", Amount__c: Double($0)) }
    }

    @Test func chunksOf200InInputOrderWithPerRecordFailures() async throws {
        let transport = MockTransport { Self.answer($0) }
        let results = try await makeClient(transport).upsertCollection("Payment__c", externalIdField: "Reference__c", records: records(450))
        let sizes = transport.requests.map { (($0.jsonObject as? [String: Any])?["records"] as? [Any])?.count ?? -1 }
        #expect(sizes.sorted(by: >) == [200, 200, 50])
        #expect(results.map(\.index) == Array(0..<450))
        #expect(results[0].id == "id-PAY-1" && results[0].success && results[0].created)
        #expect(results[449].id == "id-PAY-450")
        let failed = results.filter { !$0.success }
        #expect(failed.count == 45)
        #expect(failed.allSatisfy { $0.errors.first?.errorCode == "DUPLICATE_VALUE" && $0.requestFailure == nil })
        #expect(results[6].errors.first?.message == "duplicate PAY-7")
    }

    @Test func requestShapeMatchesTheCollectionsAPI() async throws {
        let transport = MockTransport { Self.answer($0) }
        _ = try await makeClient(transport).upsertCollection("Payment__c", externalIdField: "Reference__c", records: records(1), allOrNone: true)
        let request = try #require(transport.requests.first)
        #expect(request.method == .patch)
        #expect(request.url.absoluteString == "https://acme.my.salesforce.com/services/data/v62.0/composite/sobjects/Payment__c/Reference__c")
        let body = try #require(request.jsonObject as? [String: Any])
        #expect(body["allOrNone"] as? Bool == true)
        let record = try #require((body["records"] as? [[String: Any]])?.first)
        #expect((record["attributes"] as? [String: String]) == ["type": "Payment__c"])
        #expect(record["Reference__c"] as? String == "PAY-1")
    }

    @Test func aFailedChunkIsRetriedAsAWhole() async throws {
        let calls = Lock(0)
        let transport = MockTransport { request in
            calls.withLock { $0 += 1; return $0 } == 1 ? .status(503) : Self.answer(request)
        }
        let results = try await makeClient(transport).upsertCollection("Payment__c", externalIdField: "Reference__c", records: records(10))
        #expect(transport.requestCount == 2)
        #expect(results.filter(\.success).count == 9)
    }

    @Test func aChunkThatKeepsFailingIsReportedPerRecordWithoutFailingTheOthers() async throws {
        let transport = MockTransport { request in
            let first = ((request.jsonObject as? [String: Any])?["records"] as? [[String: Any]])?.first?["Reference__c"] as? String
            return first == "PAY-201" ? .status(503) : Self.answer(request)
        }
        let client = try makeClient(transport) { $0.retryPolicy = RetryPolicy(maxAttempts: 2) }
        let results = try await client.upsertCollection("Payment__c", externalIdField: "Reference__c", records: records(300))
        #expect(results[0..<200].filter(\.success).count == 180)
        #expect(results[200..<300].allSatisfy { !$0.success && $0.requestFailure?.category == .transientServer })
    }

    @Test func aWrongNumberOfAnswersIsAnUnexpectedResponse() async throws {
        let transport = MockTransport { _ in .json(200, #"[{"id":"x","success":true,"errors":[],"created":true}]"#) }
        let results = try await makeClient(transport).upsertCollection("Payment__c", externalIdField: "Reference__c", records: records(3))
        #expect(results.allSatisfy { $0.requestFailure?.category == .unknown })
    }

    @Test func chunksRunWithBoundedConcurrency() async throws {
        let inFlight = Lock((now: 0, peak: 0))
        let transport = MockTransport { request in
            inFlight.withLock { $0.now += 1; $0.peak = max($0.peak, $0.now) }
            for _ in 0..<50 { await Task.yield() }
            inFlight.withLock { $0.now -= 1 }
            return Self.answer(request)
        }
        let client = try makeClient(transport) { $0.collectionsConcurrency = 3 }
        _ = try await client.upsertCollection("Payment__c", externalIdField: "Reference__c", records: records(2_000))
        #expect(transport.requestCount == 10)
        #expect(inFlight.withLock { $0.peak } <= 3)
    }

    @Test func emptyInputMakesNoCall() async throws {
        let transport = MockTransport()
        let results = try await makeClient(transport).upsertCollection("Payment__c", externalIdField: "Reference__c", records: [PaymentWithReference]())
        #expect(results.isEmpty && transport.requestCount == 0)
    }
}
