/// Settings for an ``Outbox``.
public struct OutboxOptions: Sendable {
    /// Entries per collections call. Default 200, the API's maximum.
    public var batchSize: Int
    /// The wait after a batch that had transient failures, growing while they continue.
    /// Default 1 s doubling to 60 s, with equal jitter.
    public var retryBackoff: Backoff
    /// How long draining stops after 403 `REQUEST_LIMIT_EXCEEDED`. Default 15 minutes: the
    /// limit is a rolling 24-hour window, so trying again in seconds only burns the error.
    public var limitPause: Duration
    /// The wait when the backlog is empty and the caller asked to keep running. Default 1 s.
    public var idleInterval: Duration
    /// The priority of the outbox's calls. Default critical: queued writes are the work that
    /// must not be shed.
    public var priority: RequestContext.Priority
    /// How long a claimed batch stays this drainer's before other drainers may take it (it
    /// died). Longer than a batch can take: the client's `callTimeout` (120 s by default).
    /// Default 5 minutes.
    public var claimLease: Duration
    /// Never hand entries of one ``OutboxEntry/group`` to two drainers at once. Default `false`.
    public var groupsTogether: Bool
    /// How many times a record that Salesforce refused for a transient reason (row lock,
    /// `UNKNOWN_EXCEPTION`; see ``OutcomeClassifier/classify(upsertRecordErrors:)``) is sent
    /// before it is dead-lettered with its last error. Default 10. Outages (a whole request
    /// failing) never count toward it.
    public var recordAttemptLimit: Int
    /// The most batches ``Outbox/drain(keepRunning:onStep:)`` sends at once. Default 1.
    ///
    /// Above 1, extra batches go out only while Salesforce is taking full batches cleanly (a
    /// backlog, and no failure in the last batch); any failure, pause or short batch takes the
    /// drain back to one batch at a time, so an outage is probed by one call, never by N. Each
    /// batch also takes one of the client's ``SalesforceClient/collectionsSlots`` (10 by
    /// default), so the calls of every caller of a client together stay under that limit. With
    /// ``groupsTogether`` a group's entries are never in two batches at once, so its order holds.
    /// Keep it low when the records of different batches lock the same parent records, and at 1
    /// where a seeded chaos run must replay exactly (concurrent batches interleave freely).
    public var concurrentBatches: Int
    /// A batch smaller than ``batchSize`` goes at most once per `linger`, so that records
    /// arriving one by one share calls; a full batch goes at once. Default zero: with the API
    /// budget to spare, no record waits for company. See ``budgetPacing`` for when it is short.
    public var linger: Duration
    /// How the outbox saves the org's daily API budget when it runs short. Default: an hour's
    /// horizon, at most 60 s of linger. `nil` turns it off.
    public var budgetPacing: BudgetPacing?
    /// When a large backlog goes to Bulk API 2.0 upsert jobs instead of collections calls;
    /// `BulkHandOff()` hands it over at 10,000 pending records. Never used with
    /// ``groupsTogether``.
    ///
    /// Default `nil`: every record goes by collections. It is opt-in because a job's claim holds
    /// its entries for the job's time limit (``BulkHandOff/jobTimeLimit``), not for
    /// ``claimLease``: a drainer killed mid-job leaves up to ``BulkHandOff/maxRecordsPerJob``
    /// records to the other drainers only when that lease runs out.
    public var bulkHandOff: BulkHandOff?

    /// Spacing of partial batches by the API budget left (`Sforce-Limit-Info`).
    ///
    /// When fewer calls remain than one per second of ``horizon`` (3,600 for an hour), a partial
    /// batch waits until `horizon / remaining` has passed since the last one, at most
    /// ``maxLinger``: 1,000 calls left space them 3.6 s apart, 100 calls 36 s. Records arriving
    /// meanwhile join the batch, so a trickle spends a few calls instead of one per record and the
    /// budget lasts. Full batches are never held back.
    public struct BudgetPacing: Sendable, Hashable {
        /// How long the remaining budget should last at the paced rate. Default one hour.
        public var horizon: Duration
        /// The longest a partial batch waits. Default 60 s.
        public var maxLinger: Duration

        /// Creates the pacing.
        public init(horizon: Duration = .seconds(3_600), maxLinger: Duration = .seconds(60)) {
            self.horizon = horizon
            self.maxLinger = maxLinger
        }

        /// The spacing of partial batches with `remaining` calls left; zero while the budget is
        /// plentiful.
        public func spacing(remaining: Int) -> Duration {
            let remaining = max(1, remaining)
            guard horizon > .seconds(remaining) else { return .zero }
            return min(horizon / remaining, maxLinger.atLeast(.zero))
        }
    }

    /// Creates options.
    public init(batchSize: Int = 200, retryBackoff: Backoff = Backoff(initial: .seconds(1), multiplier: 2, maximum: .seconds(60)),
                limitPause: Duration = .seconds(900), idleInterval: Duration = .seconds(1), priority: RequestContext.Priority = .critical,
                claimLease: Duration = .seconds(300), groupsTogether: Bool = false, recordAttemptLimit: Int = 10, concurrentBatches: Int = 1,
                linger: Duration = .zero, budgetPacing: BudgetPacing? = BudgetPacing(), bulkHandOff: BulkHandOff? = nil) {
        self.bulkHandOff = bulkHandOff
        self.concurrentBatches = max(1, concurrentBatches)
        self.linger = linger.atLeast(.zero)
        self.budgetPacing = budgetPacing
        self.batchSize = min(200, max(1, batchSize))
        self.retryBackoff = retryBackoff
        self.limitPause = limitPause
        self.idleInterval = idleInterval
        self.priority = priority
        self.claimLease = claimLease
        self.groupsTogether = groupsTogether
        self.recordAttemptLimit = max(1, recordAttemptLimit)
    }

    /// How long a batch may run after its claim: 80 % of the lease, so that a batch is over
    /// (cancelled if need be) before another drainer can claim its entries.
    public var batchTimeLimit: Duration { claimLease.atLeast(OptionLimits.longWait) * 0.8 }
}
