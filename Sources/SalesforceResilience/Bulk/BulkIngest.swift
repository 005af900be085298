import Foundation

/// One input row's outcome in a Bulk API ingest.
public struct BulkRecordResult: Sendable, Hashable {
    /// What happened to the row.
    public enum Outcome: Sendable, Hashable {
        /// Saved: the record id and whether it was created.
        case succeeded(id: String, created: Bool)
        /// Rejected, with Salesforce's `sf__Error` text (such as `REQUIRED_FIELD_MISSING:…`).
        case failed(error: String)
        /// Not processed (never submitted, or the job stopped first); safe to submit again.
        case unprocessed
        /// Submitted to a job that stopped (failed, aborted, timed out) or whose results could
        /// not be read: the row may or may not have been saved. Upsert it again by external id,
        /// or check before inserting it again.
        case unknown
    }

    /// The row's index in the input.
    public var index: Int
    /// The job that carried it; `nil` for a row that was never submitted.
    public var jobID: String?
    /// What happened.
    public var outcome: Outcome

    /// Creates a row result.
    public init(index: Int, jobID: String?, outcome: Outcome) {
        self.index = index
        self.jobID = jobID
        self.outcome = outcome
    }
}

/// The outcome of ``SalesforceClient/bulkIngest(_:operation:externalIdField:records:options:)``.
public struct BulkIngestResult: Sendable {
    /// The jobs used, in order (more than one when the input exceeded the upload limit).
    public var jobs: [BulkJobInfo]
    /// One result per input row, in input order.
    public var records: [BulkRecordResult]

    /// Creates a result.
    public init(jobs: [BulkJobInfo], records: [BulkRecordResult]) {
        self.jobs = jobs
        self.records = records
    }

    /// Rows saved.
    public var succeeded: Int { records.filter { if case .succeeded = $0.outcome { true } else { false } }.count }
    /// Rows rejected.
    public var failed: Int { records.filter { if case .failed = $0.outcome { true } else { false } }.count }
    /// Rows not processed.
    public var unprocessed: Int { records.filter { $0.outcome == .unprocessed }.count }
    /// Rows whose fate is not known.
    public var unknown: Int { records.filter { $0.outcome == .unknown }.count }
}

/// A Bulk ingest that stopped part-way, with everything known about every input row.
///
/// Salesforce does not roll back rows a `Failed` or `Aborted` job already saved, and a run split
/// across several jobs may stop after some of them completed. So instead of only the reason,
/// the error carries a ``BulkIngestResult`` with one row result per input row: saved and
/// rejected rows from the result files, ``BulkRecordResult/Outcome/unprocessed`` for rows that
/// never reached Salesforce or that it reports unprocessed, and
/// ``BulkRecordResult/Outcome/unknown`` for rows whose fate could not be read.
public struct BulkIngestError: Error, Sendable, CustomStringConvertible {
    /// Why the run stopped: a ``BulkError`` (the job failed, was aborted, timed out), a
    /// ``SalesforceError`` or a transport error after retries.
    public var reason: any Error
    /// What is known about every input row, and the jobs used so far.
    public var partial: BulkIngestResult

    /// Creates the error.
    public init(reason: any Error, partial: BulkIngestResult) {
        self.reason = reason
        self.partial = partial
    }

    /// A one-line explanation with the row counts.
    public var description: String {
        "bulk ingest stopped: \(reason); \(partial.succeeded) saved, \(partial.failed) rejected, "
            + "\(partial.unprocessed) unprocessed, \(partial.unknown) unknown"
    }
}

/// Settings for a Bulk API ingest.
public struct BulkIngestOptions: Sendable {
    /// The most CSV bytes per job. Default 100,000,000: Salesforce's limit is 150 MB after
    /// base64 encoding, about 100 MB of raw CSV. Larger inputs are split across jobs.
    public var maxUploadBytes: Int
    /// How jobs are polled.
    public var poll: BulkPollPolicy
    /// The priority of every call.
    public var priority: RequestContext.Priority

    /// Creates options.
    public init(maxUploadBytes: Int = 100_000_000, poll: BulkPollPolicy = .default, priority: RequestContext.Priority = .normal) {
        self.maxUploadBytes = max(1, maxUploadBytes)
        self.poll = poll
        self.priority = priority
    }
}

extension SalesforceClient {
    /// Loads `records` with Bulk API 2.0: create job, upload CSV, close, poll, fetch results.
    ///
    /// - Parameters:
    ///   - externalIdField: required for `upsert`.
    ///   - records: flat `Encodable` values; each property becomes a column (a `nil` leaves its cell
    ///     empty: unchanged on update; use `"#N/A"` for null).
    /// - Returns: a result per input row, mapped back from the result files.
    /// - Throws: before anything is sent, ``SalesforceClientError/invalidArgument(_:)`` or
    ///   ``BulkError/invalidCSV(_:)`` for input that cannot be loaded. After the first request,
    ///   ``BulkIngestError``: why the run stopped (a ``BulkError`` when a job fails, is aborted or
    ///   times out; a ``SalesforceError`` or transport error after retries) and a result for every
    ///   input row, including those earlier jobs or the failed job saved. Cancellation too ends
    ///   as a ``BulkIngestError`` whose reason is `CancellationError`, after the running job is
    ///   aborted on the server: a run cancelled at shutdown still says which rows landed.
    public func bulkIngest<Record: Encodable>(
        _ object: String, operation: BulkIngestOperation, externalIdField: String? = nil, records: [Record], options: BulkIngestOptions = BulkIngestOptions()
    ) async throws -> BulkIngestResult {
        var header: [String] = []
        var seen: Set<String> = []
        var encoded: [[(String, String)]] = []
        encoded.reserveCapacity(records.count)
        for record in records {
            let columns: [(String, String)]
            do { columns = try CSVRecordEncoder.columns(of: record) } catch { throw BulkError.invalidCSV(String(describing: error)) }
            for (name, _) in columns where seen.insert(name).inserted { header.append(name) }
            encoded.append(columns)
        }
        let rows = encoded.map { columns in
            let values = Dictionary(columns, uniquingKeysWith: { _, last in last })
            return header.map { values[$0] ?? "" }
        }
        return try await bulkIngest(object, operation: operation, externalIdField: externalIdField, header: header, rows: rows, matchColumns: header, options: options)
    }

    /// Loads raw CSV (with a header row) with Bulk API 2.0; see the `records:` variant.
    public func bulkIngest(
        _ object: String, operation: BulkIngestOperation, externalIdField: String? = nil, csv: String, options: BulkIngestOptions = BulkIngestOptions()
    ) async throws -> BulkIngestResult {
        let rows: [[String]]
        do { rows = try CSV.parse(csv) } catch { throw BulkError.invalidCSV(String(describing: error)) }
        guard let header = rows.first else { return BulkIngestResult(jobs: [], records: []) }
        return try await bulkIngest(object, operation: operation, externalIdField: externalIdField, header: header, rows: Array(rows.dropFirst()), matchColumns: header, options: options)
    }

    /// Loads `rows` under `header`. A result row is joined to its input row by the values of
    /// `matchColumns` that Salesforce echoes back (every column for the public variants; the
    /// external id alone for the outbox, whose external ids are unique per job); input rows that
    /// share those values are matched in order.
    func bulkIngest(
        _ object: String, operation: BulkIngestOperation, externalIdField: String?, header: [String], rows: [[String]], matchColumns: [String], options: BulkIngestOptions
    ) async throws -> BulkIngestResult {
        guard Set(matchColumns).isSubset(of: header), !matchColumns.isEmpty else {
            throw SalesforceClientError.invalidArgument("bulk results are matched by columns that are not in the header")
        }
        try APINames.validate(object, role: "sObject type")
        if operation == .upsert {
            guard let externalIdField else { throw SalesforceClientError.invalidArgument("bulk upsert needs an external id field") }
            try APINames.validate(externalIdField, role: "external id field")
            guard header.contains(externalIdField) else { throw SalesforceClientError.invalidArgument("no \(externalIdField) column in the records") }
        }
        guard !rows.isEmpty else { return BulkIngestResult(jobs: [], records: []) }
        let headerLine = CSV.encode([header])
        var result = BulkIngestResult(jobs: [], records: [])
        var start = 0
        while start < rows.count {
            var body = headerLine
            var end = start
            while end < rows.count {
                let line = CSV.encode([rows[end]])
                if end > start && body.utf8.count + line.utf8.count > options.maxUploadBytes { break }
                body += line
                end += 1
            }
            let job = await runIngestJob(
                object, operation: operation, externalIdField: externalIdField, header: header, matchColumns: matchColumns,
                rows: rows[start..<end], firstIndex: start, csv: body, options: options)
            if let info = job.info { result.jobs.append(info) }
            result.records += job.records
            if let failure = job.failure {
                result.records += (end..<rows.count).map { BulkRecordResult(index: $0, jobID: nil, outcome: .unprocessed) }
                // However cancellation surfaced (a URLError.cancelled, say), it reads as one.
                let reason = configuration.classifier.classify(failure) == .cancelled ? CancellationError() : failure
                throw BulkIngestError(reason: reason, partial: result)
            }
            start = end
        }
        return result
    }

    /// How one ingest job ended: its last known info, a result for each of its rows, and why it
    /// stopped if it did not complete.
    private struct IngestJobRun {
        var info: BulkJobInfo?
        var records: [BulkRecordResult]
        var failure: (any Error)?
    }

    /// Runs one job. A failure, cancellation included, is returned with what is known of the
    /// job's rows rather than thrown, so the caller keeps the results of earlier jobs.
    private func runIngestJob(
        _ object: String, operation: BulkIngestOperation, externalIdField: String?, header: [String], matchColumns: [String],
        rows: ArraySlice<[String]>, firstIndex: Int, csv: String, options: BulkIngestOptions
    ) async -> IngestJobRun {
        let classifier = configuration.classifier
        func isCancellation(_ error: any Error) -> Bool { error is CancellationError || classifier.classify(error) == .cancelled }
        func every(_ outcome: BulkRecordResult.Outcome, jobID: String?) -> [BulkRecordResult] {
            rows.indices.map { BulkRecordResult(index: firstIndex + ($0 - rows.startIndex), jobID: jobID, outcome: outcome) }
        }
        var spec: [String: String] = ["object": object, "operation": operation.rawValue, "contentType": "CSV", "lineEnding": "LF", "columnDelimiter": "COMMA"]
        if let externalIdField { spec["externalIdFieldName"] = externalIdField }
        // Creating a job changes no data: an orphan from a retried create stays Open and expires.
        let create = RequestContext(operation: "bulk ingest create", isIdempotent: true, priority: options.priority)
        let job: BulkJobInfo
        do {
            job = try await sendJSON(.post, try dataURL(["jobs", "ingest"]), body: encode(spec, operation: create.operation), context: create, as: BulkJobInfo.self)
        } catch {
            return IngestJobRun(info: nil, records: every(.unprocessed, jobID: nil), failure: error)
        }
        events.emit(.bulkJobStateChanged(jobID: job.id, state: job.state, processed: 0, failed: 0))
        let jobPath = FormEncoding.percentEncode(job.id)
        do {
            // Uploading twice would load the rows twice: not idempotent.
            let upload = HTTPRequest(method: .put, url: try dataURL(["jobs", "ingest", jobPath, "batches"]),
                                     headers: ["Content-Type": "text/csv", "Accept": "application/json"], body: Data(csv.utf8))
            _ = try await send(upload, context: RequestContext(operation: "bulk ingest upload", isIdempotent: false, priority: options.priority))
        } catch {
            // An Open job processes nothing: aborted, every row is unprocessed.
            await abortJob(kind: "ingest", id: job.id)
            return IngestJobRun(info: job, records: every(.unprocessed, jobID: job.id), failure: error)
        }
        /// The job stopped after its close may have reached Salesforce. Cancelled: it is
        /// aborted and no more calls are made, so what it saved is unknown. Otherwise read what
        /// it did: Salesforce keeps what a failed or aborted job saved.
        func stopped(_ info: BulkJobInfo, _ error: any Error) async -> IngestJobRun {
            if isCancellation(error) { return IngestJobRun(info: info, records: every(.unknown, jobID: job.id), failure: error) }
            let latest = (try? await jobInfo(kind: "ingest", id: job.id, priority: options.priority)) ?? info
            let records = (try? await ingestResults(jobID: job.id, header: header, matchColumns: matchColumns, rows: rows, firstIndex: firstIndex, priority: options.priority))
                ?? every(.unknown, jobID: job.id)
            return IngestJobRun(info: latest, records: records, failure: error)
        }
        do {
            let close = RequestContext(operation: "bulk ingest close", isIdempotent: true, priority: options.priority)
            _ = try await send(jsonRequest(.patch, try dataURL(["jobs", "ingest", jobPath]), body: Data(#"{"state":"UploadComplete"}"#.utf8)), context: close)
            events.emit(.bulkJobStateChanged(jobID: job.id, state: .uploadComplete, processed: 0, failed: 0))
        } catch {
            // The close may have reached Salesforce: make sure the job does not run on unwatched.
            await abortJob(kind: "ingest", id: job.id)
            return await stopped(job, error)
        }
        var info = job
        do {
            // The poller aborts the job itself on cancellation and at its timeout.
            info = try await pollJob(kind: "ingest", id: job.id, policy: options.poll, priority: options.priority)
            let records = try await ingestResults(jobID: job.id, header: header, matchColumns: matchColumns, rows: rows, firstIndex: firstIndex, priority: options.priority)
            return IngestJobRun(info: info, records: records, failure: nil)
        } catch {
            if !isCancellation(error) && !(error is BulkError) && !info.state.isTerminal { await abortJob(kind: "ingest", id: job.id) }
            return await stopped(info, error)
        }
    }

    /// Fetches the three result files and maps each row back to its input index by its echoed
    /// `matchColumns` (rows that share them are matched in order), never by position.
    private func ingestResults(
        jobID: String, header: [String], matchColumns: [String], rows: ArraySlice<[String]>, firstIndex: Int, priority: RequestContext.Priority
    ) async throws -> [BulkRecordResult] {
        let positions = matchColumns.compactMap { header.firstIndex(of: $0) }
        var unclaimed: [[String]: [Int]] = [:]
        for (offset, row) in rows.enumerated() { unclaimed[positions.map { $0 < row.count ? row[$0] : "" }, default: []].append(firstIndex + offset) }
        var outcomes: [Int: BulkRecordResult.Outcome] = [:]
        func claim(_ record: [String: String], _ outcome: BulkRecordResult.Outcome) {
            let key = matchColumns.map { record[$0] ?? "" }
            guard var indices = unclaimed[key], !indices.isEmpty else { return }
            outcomes[indices.removeFirst()] = outcome
            unclaimed[key] = indices
        }
        for record in try await resultFile(jobID: jobID, name: "successfulResults", priority: priority) {
            claim(record, .succeeded(id: record["sf__Id"] ?? "", created: record["sf__Created"]?.lowercased() == "true"))
        }
        for record in try await resultFile(jobID: jobID, name: "failedResults", priority: priority) {
            claim(record, .failed(error: record["sf__Error"] ?? "unknown error"))
        }
        for record in try await resultFile(jobID: jobID, name: "unprocessedrecords", priority: priority) {
            claim(record, .unprocessed)
        }
        return rows.indices.map { position in
            let index = firstIndex + (position - rows.startIndex)
            return BulkRecordResult(index: index, jobID: jobID, outcome: outcomes[index] ?? .unknown)
        }
    }

    private func resultFile(jobID: String, name: String, priority: RequestContext.Priority) async throws -> [[String: String]] {
        let url = try dataURL(["jobs", "ingest", FormEncoding.percentEncode(jobID), name])
        let request = HTTPRequest(method: .get, url: url, headers: ["Accept": "text/csv"])
        let response = try await send(request, context: RequestContext(operation: "bulk ingest \(name)", isIdempotent: true, priority: priority))
        do {
            return try CSV.parseRecords(String(decoding: response.body, as: UTF8.self)).records
        } catch {
            throw BulkError.invalidCSV("\(name) of \(jobID): \(error)")
        }
    }
}
