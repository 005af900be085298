/// A Bulk API 2.0 ingest operation.
public enum BulkIngestOperation: String, Sendable, Hashable, Codable {
    /// Create records.
    case insert
    /// Update records by `Id`.
    case update
    /// Create or update by an external id field.
    case upsert
    /// Move records to the recycle bin by `Id`.
    case delete
    /// Delete records by `Id` permanently.
    case hardDelete
}

/// A Bulk API 2.0 job's state.
public enum BulkJobState: String, Sendable, Hashable, Codable {
    /// Accepting data.
    case open = "Open"
    /// Data complete; waiting to be processed.
    case uploadComplete = "UploadComplete"
    /// Being processed.
    case inProgress = "InProgress"
    /// Done; results are available.
    case jobComplete = "JobComplete"
    /// Failed as a whole; see the job's `errorMessage`.
    case failed = "Failed"
    /// Aborted by a client.
    case aborted = "Aborted"

    /// Whether the job will not change state again.
    public var isTerminal: Bool { self == .jobComplete || self == .failed || self == .aborted }
}

/// What `GET jobs/ingest/{id}` or `jobs/query/{id}` reports.
public struct BulkJobInfo: Sendable, Hashable, Decodable {
    /// The job id.
    public var id: String
    /// The state.
    public var state: BulkJobState
    /// The sObject type, for ingest jobs.
    public var object: String?
    /// The operation (`insert`, `upsert`, `query`…).
    public var operation: String?
    /// Records processed so far.
    public var numberRecordsProcessed: Int?
    /// Records that failed so far.
    public var numberRecordsFailed: Int?
    /// Why a `Failed` job failed.
    public var errorMessage: String?

    /// Creates job info.
    public init(id: String, state: BulkJobState, object: String? = nil, operation: String? = nil,
                numberRecordsProcessed: Int? = nil, numberRecordsFailed: Int? = nil, errorMessage: String? = nil) {
        self.id = id
        self.state = state
        self.object = object
        self.operation = operation
        self.numberRecordsProcessed = numberRecordsProcessed
        self.numberRecordsFailed = numberRecordsFailed
        self.errorMessage = errorMessage
    }
}

/// How a Bulk job is watched: an interval that grows, so a long job costs few API calls.
public struct BulkPollPolicy: Sendable, Hashable {
    /// The first wait. Default 2 s; at least 100 ms takes effect.
    public var initialInterval: Duration
    /// Growth per poll. Default 1.5.
    public var factor: Double
    /// The longest wait. Default 30 s: a 10-minute job costs about 25 polls.
    public var maximumInterval: Duration
    /// Give up (and abort the job) after this long. Default 2 hours; at least 1 s takes effect.
    public var timeout: Duration

    /// Creates a policy.
    public init(initialInterval: Duration = .seconds(2), factor: Double = 1.5, maximumInterval: Duration = .seconds(30), timeout: Duration = .seconds(7_200)) {
        self.initialInterval = initialInterval
        self.factor = max(1, factor)
        self.maximumInterval = max(initialInterval, maximumInterval)
        self.timeout = timeout
    }

    /// The defaults.
    public static let `default` = BulkPollPolicy()

    /// The wait before poll number `poll` (1-based).
    public func interval(forPoll poll: Int) -> Duration {
        let initial = initialInterval.atLeast(OptionLimits.pollInterval)
        return Backoff(initial: initial, multiplier: factor, maximum: maximumInterval.atLeast(initial), jitter: .none).baseDelay(forRetry: poll)
    }
}

/// A Bulk API job that did not complete.
public enum BulkError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Salesforce marked the job `Failed`; `message` is its `errorMessage`.
    case jobFailed(jobID: String, message: String)
    /// The job was aborted (by this client after cancellation or timeout, or by someone else).
    case jobAborted(jobID: String)
    /// The job did not finish within ``BulkPollPolicy/timeout``; it was aborted.
    case timedOut(jobID: String, lastState: BulkJobState)
    /// Records could not be turned into CSV, or a results body was not valid CSV.
    case invalidCSV(String)

    /// A one-line explanation.
    public var description: String {
        switch self {
        case .jobFailed(let id, let message): "bulk job \(id) failed: \(message)"
        case .jobAborted(let id): "bulk job \(id) was aborted"
        case .timedOut(let id, let state): "bulk job \(id) still \(state.rawValue) at the timeout; aborted"
        case .invalidCSV(let detail): "invalid CSV: \(detail)"
        }
    }
}
