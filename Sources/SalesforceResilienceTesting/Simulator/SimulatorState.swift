import SalesforceResilience

/// One stored record.
struct SimulatorRecord: Sendable {
    var id: String
    var type: String
    var fields: [String: JSONValue]
    var deleted = false
}

/// Everything the simulator remembers, guarded by one lock.
struct SimulatorState: Sendable {
    var records: [String: SimulatorRecord] = [:]
    /// Record ids per type, in creation order, so queries are deterministic.
    var order: [String: [String]] = [:]
    var idCounter = 0
    /// Record ids by type, field and string value, for upsert matching without a scan.
    var index: [String: [String: [String: [String]]]] = [:]
    var sessions: [String: ResilienceInstant?] = [:]
    /// Instants at which every session will be invalidated, soonest first.
    var scheduledExpiries: [ResilienceInstant] = []
    var tokensIssued = 0
    var refreshTokensRevoked = false
    /// Refresh tokens issued, and whether each is current (`true`) or retired by a rotation.
    var refreshTokens: [String: Bool] = [:]
    var refreshTokenCounter = 0
    var familyRevocations = 0
    var apiUsed = 0
    var rowLocksToInject = 0
    /// A record's next writes that fail, by external id value.
    struct RecordFailure: Sendable {
        var code: String
        var message: String
        var remaining: Int
    }
    var recordFailures: [String: RecordFailure] = [:]
    var cursors: [String: [[String: JSONValue]]] = [:]
    var cursorCounter = 0
    var bulkJobs: [String: SimulatorBulkJob] = [:]
    var bulkJobCounter = 0
    var failNextBulkJob: (message: String, afterRows: Int)?
    /// Shuffles ingest result rows with this seed (``SalesforceSimulator/shuffleBulkResults(seed:)``).
    var bulkResultShuffleSeed: UInt64?
    var instanceStatus: [String: String] = [:]
    var incidents: [JSONValue] = []
    var calls: [String: Int] = [:]
    /// Upserts by external id that saved, by `type.field`, then by external id value.
    var upsertSaves: [String: [String: Int]] = [:]
    var statuses: [Int: Int] = [:]

    /// A new current refresh token of the org's one family.
    mutating func issueRefreshToken(organizationID: String) -> String {
        refreshTokenCounter += 1
        let token = "5Aep861SIM\(organizationID)REFRESH\(refreshTokenCounter)"
        refreshTokens[token] = true
        return token
    }

    mutating func newID(for type: String) -> String {
        idCounter += 1
        let prefix = type == "Account" ? "001" : type == "Contact" ? "003" : "a01"
        let digits = String(idCounter, radix: 36).uppercased()
        return prefix + String(repeating: "0", count: max(0, 12 - digits.count)) + digits + "AAA"
    }

    mutating func insert(type: String, fields: [String: JSONValue]) -> String {
        let id = newID(for: type)
        records[id] = SimulatorRecord(id: id, type: type, fields: fields)
        order[type, default: []].append(id)
        for (field, value) in fields { if let text = value.stringValue { index[type, default: [:]][field, default: [:]][text, default: []].append(id) } }
        return id
    }

    /// Sets fields of a record, keeping the index current.
    mutating func merge(id: String, fields: [String: JSONValue]) {
        guard let record = records[id] else { return }
        for (field, value) in fields where record.fields[field] != value {
            if let old = record.fields[field]?.stringValue { index[record.type]?[field]?[old]?.removeAll { $0 == id } }
            if let text = value.stringValue { index[record.type, default: [:]][field, default: [:]][text, default: []].append(id) }
        }
        records[id]?.fields.merge(fields) { $1 }
    }

    /// Live records of `type` whose `field` holds the string `value`.
    func matches(type: String, field: String, value: String) -> [String] {
        (index[type]?[field]?[value] ?? []).filter { records[$0]?.deleted == false }
    }

    func live(_ type: String) -> [SimulatorRecord] {
        (order[type] ?? []).compactMap { records[$0] }.filter { !$0.deleted }
    }

    /// Consumes one injected row lock, if any.
    /// The failure injected for the next write of `externalId`, if any is left.
    mutating func takeRecordFailure(_ externalId: String) -> RecordFailure? {
        guard let failure = recordFailures[externalId], failure.remaining > 0 else { return nil }
        recordFailures[externalId]?.remaining -= 1
        return failure
    }

    mutating func takeRowLock() -> Bool {
        guard rowLocksToInject > 0 else { return false }
        rowLocksToInject -= 1
        return true
    }
}
