import Foundation

/// An ``OutboxEntry`` as the outbox keeps it while it waits: its fields as the JSON the journal
/// writes (one small buffer instead of a dictionary of boxed values). An ``OutboxEntry`` is made
/// again only when the entry is claimed or listed.
struct StoredEntry: Sendable {
    /// The fields: JSON object bytes, or the values themselves when JSON cannot carry one (an
    /// infinite or NaN number, which only the in-memory store accepts; sending it fails later).
    enum Fields: Sendable {
        case json([UInt8])
        case values([String: JSONValue])
    }

    var sobject: String
    var externalIdField: String
    var externalId: String
    var fields: Fields
    /// Seconds since 2001-01-01 (`Date`'s reference date), as the journal writes it.
    var enqueuedAt: Double
    var attempts: Int
    var group: String?
    /// See ``OutboxEntry/version``.
    var version: Int64 = 0

    init(sobject: String, externalIdField: String, externalId: String, fields: Fields, enqueuedAt: Double, attempts: Int, group: String?) {
        self.sobject = sobject
        self.externalIdField = externalIdField
        self.externalId = externalId
        self.fields = fields
        self.enqueuedAt = enqueuedAt
        self.attempts = attempts
        self.group = group
    }

    /// `entry`, its fields as JSON where they can be.
    init(_ entry: OutboxEntry) {
        var bytes: [UInt8] = []
        let fields: Fields
        do {
            try JSONBytes.write(entry.fields, to: &bytes)
            fields = .json(bytes)
        } catch {
            fields = .values(entry.fields)
        }
        self.init(sobject: entry.sobject, externalIdField: entry.externalIdField, externalId: entry.externalId, fields: fields,
                  enqueuedAt: entry.enqueuedAt.timeIntervalSinceReferenceDate, attempts: entry.attempts, group: entry.group)
        version = entry.version
    }

    /// See ``OutboxEntry/key``.
    var key: String { "\(sobject)/\(externalIdField)/\(externalId)" }

    /// When it was first enqueued.
    var enqueuedDate: Date { Date(timeIntervalSinceReferenceDate: enqueuedAt) }

    /// The entry, its fields decoded.
    var entry: OutboxEntry {
        var entry = OutboxEntry(sobject: sobject, externalIdField: externalIdField, externalId: externalId, fields: decodedFields,
                                enqueuedAt: enqueuedDate, attempts: attempts, group: group)
        entry.version = version
        return entry
    }

    private var decodedFields: [String: JSONValue] {
        switch fields {
        case .values(let values):
            return values
        case .json(let bytes):
            // The bytes were written by JSONBytes, or checked by the same scanner when the
            // journal was replayed: they hold an object.
            guard let object = JSONBytes.parse(bytes)?.objectValue else {
                preconditionFailure("outbox entry \(key): its stored fields are not a JSON object")
            }
            return object
        }
    }
}
