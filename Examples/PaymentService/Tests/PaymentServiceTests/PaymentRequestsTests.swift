import Foundation
@testable import PaymentServiceKit
import SalesforceResilience
import SalesforceResiliencePubSub
import Testing

/// The `events` command's work on one request: a decision for every event (a malformed one
/// included), a result keyed by the event's id, the same result for a redelivered event.
@Suite struct PaymentRequestsTests {
    static let schema = try! AvroSchema(json: PaymentRequests.schemaJSON)

    static func event(_ fields: [String: AvroValue], id: String = "EVT-1") -> PubSubEvent {
        let names = ["CreatedDate", "CreatedById", "Reference__c", "Amount__c", "Customer__c"]
        let values = names.map { fields[$0] ?? (($0 == "CreatedDate") ? .long(0) : ($0 == "CreatedById" ? .string("005") : .null)) }
        return PubSubEvent(topic: "/event/Payment_Requested__e", replayID: Data([0, 1]), id: id,
                           value: .record(AvroRecord(name: "com.sforce.eventbus.Payment_Requested__e", names: names, values: values)), schema: schema)
    }

    @Test func eachRequestGetsADecisionAndABadOneSaysWhy() {
        let approved = PaymentRequests.decide(Self.event(["Reference__c": .string("PAY-1"), "Amount__c": .double(10.5)]).value)
        #expect(approved.status == "Approved" && approved.reason == nil)
        let review = PaymentRequests.decide(Self.event(["Reference__c": .string("PAY-2"), "Amount__c": .double(10_000.01)]).value)
        #expect(review.status == "Review" && review.reason?.contains("10000") == true)
        #expect(PaymentRequests.decide(Self.event(["Amount__c": .double(5)]).value) == ("Rejected", "the request has no reference"))
        #expect(PaymentRequests.decide(Self.event(["Reference__c": .string("")]).value).status == "Rejected")
        #expect(PaymentRequests.decide(Self.event(["Reference__c": .string("PAY-3")]).value) == ("Rejected", "the request has no amount"))
        #expect(PaymentRequests.decide(Self.event(["Reference__c": .string("PAY-4"), "Amount__c": .double(-1)]).value).status == "Rejected")
        #expect(PaymentRequests.decide(Self.event(["Reference__c": .string("PAY-5"), "Amount__c": .double(.nan)]).value).status == "Rejected")
    }

    @Test func theResultIsAnUpsertByTheEventsIDGroupedByCustomerAndTheSameForARedelivery() throws {
        let event = Self.event(["Reference__c": .string("PAY-7"), "Amount__c": .double(99), "Customer__c": .string("CUST-3")], id: "EVT-7")
        var options = EventOptions()
        options.resultSObject = "Result__c"
        options.eventIdField = "Request_Event__c"
        let result = PaymentRequests.result(of: event, options: options, at: Date(timeIntervalSince1970: 1))
        #expect(result.sobject == "Result__c" && result.externalIdField == "Request_Event__c" && result.externalId == "EVT-7")
        #expect(result.fields == ["Status__c": "Approved", "Reference__c": "PAY-7", "Amount__c": 99, "Customer__c": "CUST-3"])
        #expect(result.group == "CUST-3")
        let again = PaymentRequests.result(of: event, options: options, at: Date(timeIntervalSince1970: 2))
        #expect(again.fields == result.fields && again.externalId == result.externalId)
        let bad = PaymentRequests.result(of: Self.event([:], id: "EVT-8"), options: options, at: Date())
        #expect(bad.fields == ["Status__c": "Rejected", "Reason__c": "the request has no reference"] && bad.group == nil)
    }

    @Test func aPublishedRequestDecodesToWhatWasPublished() throws {
        let created = Date(timeIntervalSince1970: 1_700_000_000)
        let value = try AvroDecoder().decode(try PaymentRequests.payload(50, createdAt: created), as: Self.schema)
        #expect(value == PaymentRequests.request(50, createdAt: created))
        #expect(value["Reference__c"]?.stringValue == "PAY-000050")
        #expect(PaymentRequests.decide(value).status == "Review", "every 50th request is above the review threshold")
        #expect(PaymentRequests.decide(PaymentRequests.request(51, createdAt: created)).status == "Approved")
    }

    @Test func anEndpointIsHostAndPort() {
        #expect(EventOptions.hostAndPort("api.pubsub.salesforce.com:7443")! == ("api.pubsub.salesforce.com", 7443))
        #expect(EventOptions.hostAndPort("127.0.0.1:1")! == ("127.0.0.1", 1))
        for bad in ["api.pubsub.salesforce.com", ":7443", "host:0", "host:65536", "host:x"] {
            #expect(EventOptions.hostAndPort(bad) == nil, "\(bad)")
        }
    }
}
