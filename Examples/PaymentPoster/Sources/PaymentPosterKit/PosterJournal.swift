import Foundation
import SalesforceResilience

/// Why PaymentPoster will not use a journal.
public enum PosterJournalError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The journal was written for another org: what it acknowledged there is not in this one.
    case anotherOrg(journal: String, journalOrg: String, thisOrg: String)
    /// The journal holds another job (another object, field or payment count).
    case anotherJob(journal: String, journalJob: String, thisJob: String)

    /// What happened and what to do.
    public var description: String {
        switch self {
        case .anotherOrg(let journal, let journalOrg, let thisOrg):
            "journal \(journal) belongs to org \(journalOrg), not to \(thisOrg): the payments it marks delivered went there. Use another --journal for this org."
        case .anotherJob(let journal, let journalJob, let thisJob):
            "journal \(journal) holds the job \(journalJob), not \(thisJob). Resume it with the same options, or use another --journal."
        }
    }
}

/// A journal belongs to one org and one job: the first run labels it, later runs must match.
enum PosterJournal {
    static func job(_ options: PosterOptions) -> String {
        "\(options.count) × \(options.sobject).\(options.externalIdField)"
    }

    /// Labels a new journal with `org` and the job, or checks that an existing one matches.
    static func bind(_ store: FileJournalOutboxStore, org: OrgIdentity, options: PosterOptions) async throws {
        let labels = await store.metadata
        let path = store.path
        if let journalOrg = labels["org.id"] ?? labels["org.instance"] {
            let same = labels["org.id"] != nil && org.id != nil ? labels["org.id"] == org.id : labels["org.instance"] == org.instance
            guard same else {
                let named = labels["org.id"].map { "\($0) (\(labels["org.instance"] ?? "?"))" } ?? journalOrg
                throw PosterJournalError.anotherOrg(journal: path, journalOrg: named, thisOrg: org.description)
            }
        }
        if let journalJob = labels["job"], journalJob != job(options) {
            throw PosterJournalError.anotherJob(journal: path, journalJob: journalJob, thisJob: job(options))
        }
        var missing: [String: String] = [:]
        if labels["org.instance"] == nil { missing["org.instance"] = org.instance }
        if labels["org.id"] == nil, let id = org.id { missing["org.id"] = id }
        if labels["job"] == nil { missing["job"] = job(options) }
        try await store.setMetadata(missing)
    }
}

/// What the org holds of the job's payments, set against what the journal knows.
struct Reconciliation {
    /// References per SOQL `IN` list: about 7 KB of URL once percent-encoded, well inside
    /// Salesforce's 16 KB request-line limit.
    static let referencesPerQuery = 300

    var landed = 0
    var duplicates = 0
    var lost = 0

    /// Counts, from `inOrg` (records per reference), the payments that landed once, more than
    /// once, and those that are gone: not in the org, not queued, not dead-lettered, but enqueued.
    init(references: [String], inOrg: [String: Int], queued: Set<String>, deadLettered: Set<String>, enqueued: Set<String>) {
        for reference in references {
            switch inOrg[reference] ?? 0 {
            case 1: landed += 1
            case 0 where enqueued.contains(reference) && !queued.contains(reference) && !deadLettered.contains(reference): lost += 1
            case 0: break
            default: duplicates += 1
            }
        }
    }

    /// Queries the org for `references`, `referencesPerQuery` at a time, and counts the records
    /// holding each one.
    static func count(_ references: [String], in client: SalesforceClient, options: PosterOptions) async throws -> [String: Int] {
        // The names were checked as API names when the command line was parsed.
        let head = SOQL(unsafeRaw: "SELECT \(options.externalIdField) FROM \(options.sobject) WHERE \(options.externalIdField) IN ")
        var counts: [String: Int] = [:]
        for start in stride(from: 0, to: references.count, by: referencesPerQuery) {
            let chunk = Array(references[start..<min(references.count, start + referencesPerQuery)])
            for try await row in client.query("\(head)\(chunk)", as: [String: JSONValue].self, priority: .critical) {
                if let reference = row[options.externalIdField]?.stringValue { counts[reference, default: 0] += 1 }
            }
        }
        return counts
    }
}
