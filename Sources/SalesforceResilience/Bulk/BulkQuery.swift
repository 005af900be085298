import Foundation

extension SalesforceClient {
    /// Runs a Bulk API 2.0 query job and streams its rows, following `Sforce-Locator` pages.
    ///
    /// Each row is a dictionary from column name to the CSV value. The job is created and
    /// polled on the first `next()`.
    public func bulkQuery(_ soql: SOQL, includeDeleted: Bool = false, maxRecordsPerPage: Int = 50_000,
                          poll: BulkPollPolicy = .default, priority: RequestContext.Priority = .normal) -> BulkQueryResults {
        BulkQueryResults(client: self, soql: soql, operation: includeDeleted ? "queryAll" : "query",
                         maxRecords: max(1, maxRecordsPerPage), poll: poll, priority: priority)
    }
}

/// The rows of a Bulk API query job, fetched page by page.
public struct BulkQueryResults: AsyncSequence, Sendable {
    /// A row: column name to value.
    public typealias Element = [String: String]

    let client: SalesforceClient
    let soql: SOQL
    let operation: String
    let maxRecords: Int
    let poll: BulkPollPolicy
    let priority: RequestContext.Priority

    /// Starts the job on the first `next()`.
    public func makeAsyncIterator() -> Iterator { Iterator(results: self) }

    /// Collects every row.
    public func collect() async throws -> [[String: String]] {
        var rows: [[String: String]] = []
        for try await row in self { rows.append(row) }
        return rows
    }

    /// Creates the job, polls it, then pages through the results.
    public struct Iterator: AsyncIteratorProtocol {
        private let results: BulkQueryResults
        private var jobID: String?
        private var locator: String?
        private var finished = false
        private var buffer: [[String: String]] = []
        private var position = 0

        init(results: BulkQueryResults) { self.results = results }

        /// The next row, or `nil` after the last page.
        public mutating func next() async throws -> [String: String]? {
            while position >= buffer.count {
                if finished { return nil }
                let client = results.client
                let id: String
                if let jobID {
                    id = jobID
                } else {
                    id = try await createJob()
                    jobID = id
                    _ = try await client.pollJob(kind: "query", id: id, policy: results.poll, priority: results.priority)
                }
                var query = "maxRecords=\(results.maxRecords)"
                if let locator { query += "&locator=" + FormEncoding.percentEncode(locator) }
                let url = try client.dataURL(["jobs", "query", FormEncoding.percentEncode(id), "results"], query: query)
                let context = RequestContext(operation: "bulk query results", isIdempotent: true, priority: results.priority)
                let response = try await client.send(HTTPRequest(method: .get, url: url, headers: ["Accept": "text/csv"]), context: context)
                do {
                    buffer = try CSV.parseRecords(String(decoding: response.body, as: UTF8.self)).records
                } catch {
                    throw BulkError.invalidCSV("results of \(id): \(error)")
                }
                position = 0
                let next = response.headers["Sforce-Locator"]
                if let next, !next.isEmpty, next != "null" { locator = next } else { finished = true }
            }
            defer { position += 1 }
            return buffer[position]
        }

        private func createJob() async throws -> String {
            let client = results.client
            let url = try client.dataURL(["jobs", "query"])
            let body = try client.encode(["operation": results.operation, "query": results.soql.text], operation: "bulk query create")
            let context = RequestContext(operation: "bulk query create", isIdempotent: true, priority: results.priority)
            return try await client.sendJSON(.post, url, body: body, context: context, as: BulkJobInfo.self).id
        }
    }
}
