/// When and how an ``Outbox`` hands a large backlog to Bulk API 2.0 instead of sObject
/// Collections (``OutboxOptions/bulkHandOff``).
///
/// At ``threshold`` pending records or more, a drain step claims up to ``maxRecordsPerJob``
/// entries of one sObject and external id field and upserts them in one Bulk API 2.0 ingest job
/// (create, upload, close, poll, read the three result files): about ten calls for what
/// collections would send in hundreds, and none of the daily REST budget spent per 200 records.
///
/// - Result rows are joined to entries by the external id column, never by position: Salesforce
///   returns them in any order. Saved rows are acknowledged; rejected rows follow the same
///   per-record rules as collections (row locks and other transient errors retried up to
///   ``OutboxOptions/recordAttemptLimit``, the rest dead-lettered); unprocessed rows, and rows
///   whose fate is unknown, go back to the queue with no attempt counted.
/// - A job that fails, is aborted or outlives ``jobTimeLimit``, or a Bulk API that refuses the
///   job, sends the outbox back to collections for ``fallbackPeriod``. What the job did save is
///   acknowledged from its result files, so those records are not sent again.
/// - An outage while the job is created or polled is treated as one for a collections batch:
///   the entries wait, with backoff.
/// - Entries stay with collections when a field's value has no CSV cell (an object, an array,
///   a number Salesforce would not read, or the text `#N/A`), and whenever
///   ``OutboxOptions/groupsTogether`` is set: a Bulk job processes its rows in parallel chunks,
///   so it cannot keep a group's order.
///
/// In a cell, `null` and the empty string become `#N/A` (set the field to null), as they do in
/// a collections upsert; a field absent from an entry is left empty (unchanged), as it is when
/// absent from the JSON.
public struct BulkHandOff: Sendable, Hashable {
    /// The backlog (pending records, claimed or not) at which steps go by Bulk API. Default
    /// 10,000: below it, collections calls at ``OutboxOptions/concurrentBatches`` are about as
    /// fast and answer within seconds.
    public var threshold: Int
    /// The most entries one step claims for a job. Default 50,000. The job is split further if
    /// its CSV would pass Salesforce's upload limit.
    public var maxRecordsPerJob: Int
    /// How long one job may take, from its claim to its results. Default 10 minutes. The claim's
    /// lease is a quarter longer, so no other drainer takes the entries while the job runs (and
    /// one killed mid-job leaves them that long); the poller gives up, aborts the job and reads
    /// its results at 90 % of it, and what it saved is acknowledged. A job whose drainer died is
    /// not aborted: if Salesforce still processes it when the lease ends, its older values can
    /// land after newer ones another drainer sent, so keep this well above how long the org
    /// takes to process a job.
    public var jobTimeLimit: Duration
    /// How long the outbox stays on collections after a job failed. Default 15 minutes.
    public var fallbackPeriod: Duration

    /// Creates the hand-off settings.
    public init(threshold: Int = 10_000, maxRecordsPerJob: Int = 50_000, jobTimeLimit: Duration = .seconds(600), fallbackPeriod: Duration = .seconds(900)) {
        self.threshold = max(1, threshold)
        self.maxRecordsPerJob = max(1, maxRecordsPerJob)
        self.jobTimeLimit = jobTimeLimit.atLeast(OptionLimits.longWait)
        self.fallbackPeriod = fallbackPeriod.atLeast(.zero)
    }

    /// The lease a job's claim holds: the time limit and a quarter.
    var lease: Duration { jobTimeLimit * 1.25 }

    /// How a job is polled: from 2 s, growing by half up to 30 s, until 90 % of the time limit.
    var poll: BulkPollPolicy { BulkPollPolicy(initialInterval: .seconds(2), factor: 1.5, maximumInterval: .seconds(30), timeout: jobTimeLimit * 0.9) }
}
