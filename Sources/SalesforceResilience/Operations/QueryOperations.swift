import Foundation

extension SalesforceClient {
    /// Runs a SOQL query and streams its records, following `nextRecordsUrl` page by page.
    ///
    /// Pages are fetched lazily as you iterate, each through the pipeline (retried: a GET is
    /// idempotent).
    ///
    /// ```swift
    /// for try await payment in client.query("SELECT Id, Amount__c FROM Payment__c", as: Payment.self) { … }
    /// ```
    public func query<Record: Decodable & Sendable>(_ soql: SOQL, as type: Record.Type = Record.self, priority: RequestContext.Priority = .normal) -> QueryResults<Record> {
        QueryResults(client: self, soql: soql, endpoint: "query", priority: priority)
    }

    /// Like ``query(_:as:priority:)``, including deleted and archived records (`queryAll`).
    public func queryAll<Record: Decodable & Sendable>(_ soql: SOQL, as type: Record.Type = Record.self, priority: RequestContext.Priority = .normal) -> QueryResults<Record> {
        QueryResults(client: self, soql: soql, endpoint: "queryAll", priority: priority)
    }
}

/// The records of a query, fetched page by page as they are iterated.
public struct QueryResults<Record: Decodable & Sendable>: AsyncSequence, Sendable {
    /// Each record in order.
    public typealias Element = Record

    let client: SalesforceClient
    let soql: SOQL
    let endpoint: String
    let priority: RequestContext.Priority

    /// Starts a new iteration from the first page.
    public func makeAsyncIterator() -> Iterator {
        Iterator(results: self)
    }

    /// Collects every record into an array.
    public func collect() async throws -> [Record] {
        var all: [Record] = []
        for try await record in self { all.append(record) }
        return all
    }

    /// Fetches pages as needed.
    public struct Iterator: AsyncIteratorProtocol {
        private let results: QueryResults
        private var buffer: [Record] = []
        private var position = 0
        private var nextPath: String?
        private var started = false

        init(results: QueryResults) { self.results = results }

        /// The next record, or `nil` after the last page.
        public mutating func next() async throws -> Record? {
            while position >= buffer.count {
                guard !started || nextPath != nil else { return nil }
                let client = results.client
                let url: URL
                if let nextPath {
                    url = try client.serverPathURL(nextPath)
                } else {
                    url = try client.dataURL([results.endpoint], query: "q=" + FormEncoding.percentEncode(results.soql.text))
                }
                started = true
                let context = RequestContext(operation: results.endpoint, isIdempotent: true, priority: results.priority)
                let page = try await client.sendJSON(.get, url, context: context, as: QueryPage<Record>.self)
                buffer = page.records
                position = 0
                nextPath = page.done ? nil : page.nextRecordsUrl
                if !page.done && page.nextRecordsUrl == nil {
                    throw SalesforceClientError.unexpectedResponse(operation: results.endpoint, detail: "done is false but there is no nextRecordsUrl")
                }
            }
            defer { position += 1 }
            return buffer[position]
        }
    }
}

/// One page of query results.
struct QueryPage<Record: Decodable>: Decodable {
    let totalSize: Int?
    let done: Bool
    let nextRecordsUrl: String?
    let records: [Record]
}
