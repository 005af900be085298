import Foundation

/// One record's outcome in an sObject Collections call, at its position in the input.
public struct RecordResult: Sendable, Hashable {
    /// Why a whole chunk got no per-record answer: its request failed after retries.
    public struct RequestFailure: Sendable, Hashable {
        /// The failure's category (for example `transientServer`, `circuitOpen`).
        public var category: FailureCategory
        /// A one-line description, free of credentials.
        public var message: String
    }

    /// The record's index in the input.
    public var index: Int
    /// The record id, when saved.
    public var id: String?
    /// Whether the record was saved.
    public var success: Bool
    /// Whether it was created (rather than updated).
    public var created: Bool
    /// Salesforce's errors for this record.
    public var errors: [SalesforceAPIError]
    /// Set when the record's chunk failed as a whole; the record was not saved by this call
    /// and, the upsert being idempotent, is safe to send again.
    public var requestFailure: RequestFailure?

    /// Creates a result.
    public init(index: Int, id: String?, success: Bool, created: Bool, errors: [SalesforceAPIError] = [], requestFailure: RequestFailure? = nil) {
        self.index = index
        self.id = id
        self.success = success
        self.created = created
        self.errors = errors
        self.requestFailure = requestFailure
    }
}

extension SalesforceClient {
    /// The most records one sObject Collections call takes.
    public static let collectionsChunkSize = 200

    /// Upserts `records` by external id with sObject Collections:
    /// `PATCH /composite/sobjects/{type}/{externalIdField}` in chunks of at most 200.
    ///
    /// Chunks run with ``SalesforceConfiguration/collectionsConcurrency`` at once, each holding one
    /// of the client's ``collectionsSlots`` while it is sent. Each chunk is
    /// idempotent and goes through the pipeline as a whole, so a 503 retries the chunk. A chunk
    /// that still fails does not fail the others: its records come back with ``RecordResult/requestFailure``.
    ///
    /// - Parameters:
    ///   - records: each must encode to a JSON object holding `externalIdField`.
    ///   - allOrNone: when true, Salesforce rolls back a chunk if any of its records fails.
    /// - Returns: one result per record, in input order.
    /// - Throws: `CancellationError` if cancelled; ``SalesforceClientError`` for bad arguments.
    public func upsertCollection<Record: Encodable & Sendable>(
        _ type: String, externalIdField: String, records: [Record], allOrNone: Bool = false, priority: RequestContext.Priority = .normal
    ) async throws -> [RecordResult] {
        try APINames.validate(type, role: "sObject type")
        try APINames.validate(externalIdField, role: "external id field")
        guard !records.isEmpty else { return [] }
        let operation = "upsert collection \(type)"
        let url = try dataURL(["composite", "sobjects", type, externalIdField])
        let chunks = stride(from: 0, to: records.count, by: Self.collectionsChunkSize).map {
            $0..<min($0 + Self.collectionsChunkSize, records.count)
        }
        let bodies = try chunks.map { range in
            try encode(CollectionRequest(allOrNone: allOrNone, records: records[range].map { TypedRecord(type: type, record: $0) }), operation: operation)
        }
        let context = RequestContext(operation: operation, isIdempotent: true, priority: priority)
        var results = [RecordResult?](repeating: nil, count: records.count)
        try await withThrowingTaskGroup(of: (Int, [RecordResult]).self) { group in
            var next = 0
            func launch() {
                let index = next
                next += 1
                group.addTask { (index, try await self.sendChunk(bodies[index], range: chunks[index], url: url, context: context)) }
            }
            while next < min(configuration.collectionsConcurrency, chunks.count) { launch() }
            while let (_, chunkResults) = try await group.next() {
                for result in chunkResults { results[result.index] = result }
                if next < chunks.count { launch() }
            }
        }
        return results.enumerated().map { index, result in
            result ?? RecordResult(index: index, id: nil, success: false, created: false)
        }
    }

    private func sendChunk(_ body: Data, range: Range<Int>, url: URL, context: RequestContext) async throws -> [RecordResult] {
        do {
            let request = jsonRequest(.patch, url, body: body)
            let response = try await collectionsSlots.withSlot { try await send(request, context: context) }
            let answers = try decode([CollectionAnswer].self, from: response.body, operation: context.operation)
            guard answers.count == range.count else {
                throw SalesforceClientError.unexpectedResponse(
                    operation: context.operation, detail: "\(answers.count) results for \(range.count) records")
            }
            return zip(range, answers).map { index, answer in
                RecordResult(index: index, id: answer.id, success: answer.success, created: answer.created ?? false, errors: answer.errors ?? [])
            }
        } catch {
            let category = configuration.classifier.classify(error)
            if category == .cancelled { throw error }
            let failure = RecordResult.RequestFailure(category: category, message: String(describing: error))
            return range.map { RecordResult(index: $0, id: nil, success: false, created: false, requestFailure: failure) }
        }
    }
}

private struct CollectionRequest<Record: Encodable>: Encodable {
    let allOrNone: Bool
    let records: [TypedRecord<Record>]
}

/// A record with `"attributes": {"type": …}` added beside its own fields.
struct TypedRecord<Record: Encodable>: Encodable {
    let type: String
    let record: Record

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: any Encoder) throws {
        try record.encode(to: encoder)
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(["type": type], forKey: Key(stringValue: "attributes"))
    }
}

private struct CollectionAnswer: Decodable {
    let id: String?
    let success: Bool
    let created: Bool?
    let errors: [SalesforceAPIError]?
}
