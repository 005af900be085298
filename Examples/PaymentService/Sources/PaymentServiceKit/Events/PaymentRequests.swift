import Foundation
import SalesforceResilience
import SalesforceResiliencePubSub

/// The payment-request event the `events` command reads, and the work it does on one: a
/// decision per request, written back as a result record keyed by the event's id.
///
/// Every event gets a result, a malformed one included (`Rejected`, with the reason), so no
/// request is dropped silently; the work depends on the event alone, so a redelivered event
/// writes the same result again.
public enum PaymentRequests {
    /// The Avro schema of `Payment_Requested__e`, as `GetSchema` returns a platform event's:
    /// the standard `CreatedDate` and `CreatedById`, then the custom fields as nullable unions.
    public static let schemaJSON = """
        {"type": "record", "name": "Payment_Requested__e", "namespace": "com.sforce.eventbus", "fields": [
          {"name": "CreatedDate", "type": "long", "doc": "CreatedDate:DateTime"},
          {"name": "CreatedById", "type": "string", "doc": "CreatedBy:EntityId"},
          {"name": "Reference__c", "type": ["null", "string"], "default": null},
          {"name": "Amount__c", "type": ["null", "double"], "default": null},
          {"name": "Customer__c", "type": ["null", "string"], "default": null}]}
        """

    /// Amounts above this are held for review instead of approved.
    public static let reviewAbove = 10_000.0

    /// Request `n` of a job: reference `PAY-00000n`, an amount and a customer that vary with `n`
    /// (every 50th above ``reviewAbove``), as simulators and tests publish it.
    public static func request(_ n: Int, createdAt: Date) -> AvroValue {
        let amount = n % 50 == 0 ? reviewAbove + Double(n % 7) * 100 : Double(n % 900) + 10.5
        return .record(AvroRecord(
            name: "com.sforce.eventbus.Payment_Requested__e", names: ["CreatedDate", "CreatedById", "Reference__c", "Amount__c", "Customer__c"],
            values: [.long(Int64(createdAt.timeIntervalSince1970 * 1_000)), .string("005SIM000000001"), .string(ServiceOptions.reference(n)),
                     .double(amount), .string("CUST-\(n % 97)")]))
    }

    /// Request `n`'s Avro encoding under ``schemaJSON``.
    public static func payload(_ n: Int, createdAt: Date) throws -> [UInt8] {
        try AvroEncoder().encode(request(n, createdAt: createdAt), as: AvroSchema(json: schemaJSON))
    }

    /// The decision for one request: `Approved`, `Review` (above ``reviewAbove``) or `Rejected`
    /// (no reference, no or a non-positive amount), with the reason when it is not approved.
    public static func decide(_ event: AvroValue) -> (status: String, reason: String?) {
        guard let reference = event["Reference__c"]?.stringValue, !reference.isEmpty else { return ("Rejected", "the request has no reference") }
        guard case .double(let amount)? = event["Amount__c"], amount.isFinite else { return ("Rejected", "the request has no amount") }
        if amount <= 0 { return ("Rejected", "the amount \(amount) is not positive") }
        if amount > reviewAbove { return ("Review", "above the \(Int(reviewAbove)) review threshold") }
        return ("Approved", nil)
    }

    /// The result record for `event`: an upsert of `options.resultSObject` by the event's id,
    /// grouped by customer so that one customer's results never lock against each other.
    public static func result(of event: PubSubEvent, options: EventOptions, at date: Date) -> OutboxEntry {
        let (status, reason) = decide(event.value)
        var fields: [String: JSONValue] = ["Status__c": .string(status)]
        if let reference = event.value["Reference__c"]?.stringValue { fields["Reference__c"] = .string(reference) }
        if case .double(let amount)? = event.value["Amount__c"], amount.isFinite { fields["Amount__c"] = .number(amount) }
        if let reason { fields["Reason__c"] = .string(reason) }
        let customer = event.value["Customer__c"]?.stringValue
        if let customer { fields["Customer__c"] = .string(customer) }
        return OutboxEntry(sobject: options.resultSObject, externalIdField: options.eventIdField, externalId: event.id, fields: fields,
                           enqueuedAt: date, group: customer)
    }
}
