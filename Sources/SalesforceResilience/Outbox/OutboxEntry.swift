import Foundation

/// A record waiting to be upserted by external id.
public struct OutboxEntry: Sendable, Hashable, Codable {
    /// The sObject type, such as `Payment__c`.
    public var sobject: String
    /// The external id field, such as `Reference__c`.
    public var externalIdField: String
    /// The external id value: the entry's identity in the outbox. Enqueuing the same value
    /// twice keeps the newer fields; delivery is at-least-once and idempotent by this value.
    public var externalId: String
    /// The record's fields (without the external id field).
    public var fields: [String: JSONValue]
    /// When it was first enqueued.
    public var enqueuedAt: Date
    /// Delivery attempts so far.
    public var attempts: Int
    /// The record's parent (an account, a customer), if it has one that writes lock: claims
    /// asked to keep groups together never hand entries of one group to two drainers at once,
    /// which keeps `UNABLE_TO_LOCK_ROW` down.
    public var group: String?
    /// Which enqueue of this key the entry holds: every enqueue of a key makes a new, higher
    /// version, assigned by the store (0 until then). Claims name the version they were given, so
    /// settling an older one never removes a newer one. Versions are compared only within one
    /// store's lifetime: a journal renumbers them when it is replayed, and is not encoded.
    public var version: Int64 = 0

    private enum CodingKeys: String, CodingKey {
        case sobject, externalIdField, externalId, fields, enqueuedAt, attempts, group
    }

    /// Creates an entry.
    public init(sobject: String, externalIdField: String, externalId: String, fields: [String: JSONValue], enqueuedAt: Date, attempts: Int = 0,
                group: String? = nil) {
        self.sobject = sobject
        self.externalIdField = externalIdField
        self.externalId = externalId
        self.fields = fields
        self.enqueuedAt = enqueuedAt
        self.attempts = attempts
        self.group = group
    }

    /// The key entries are identified by: type, field and value.
    public var key: String { "\(sobject)/\(externalIdField)/\(externalId)" }
}

/// An entry that will not be delivered, with the reason.
public struct DeadLetter: Sendable, Hashable, Codable {
    /// The entry.
    public var entry: OutboxEntry
    /// Why it was given up (the Salesforce error code and message).
    public var reason: String
    /// When it was given up.
    public var at: Date
    /// The claim it was given up under: the store dead-letters the entry only if that claim
    /// still holds it at that version. `nil` (an operator's decision) acts on the key as it stands.
    public var claim: OutboxClaim?

    /// Creates a dead letter.
    public init(entry: OutboxEntry, reason: String, at: Date, claim: OutboxClaim? = nil) {
        self.entry = entry
        self.reason = reason
        self.at = at
        self.claim = claim
    }
}

