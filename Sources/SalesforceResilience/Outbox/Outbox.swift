import Foundation

/// What one ``Outbox/drainOnce()`` did.
public enum DrainStep: Sendable, Hashable {
    /// Nothing was pending.
    case idle
    /// A batch went out: records saved, given up, and left for a retry.
    case sent(delivered: Int, deadLettered: Int, retrying: Int)
    /// Nothing was sent: the breaker is open or the API limit is exhausted. Wait this long.
    case paused(reason: FailureCategory, for: Duration)
    /// Nothing was sent: the batch would be partial, and it waits this long for more records
    /// (``OutboxOptions/linger``, ``OutboxOptions/budgetPacing``).
    case lingering(for: Duration)
}

/// A durable queue of records delivered to Salesforce by upsert on their external id:
/// at least once, and therefore without duplicates.
///
/// ```swift
/// let outbox = Outbox(store: try FileJournalOutboxStore(path: "payments.journal"), client: client)
/// try await outbox.enqueue("Payment__c", externalIdField: "Reference__c", externalId: "PAY-000001", fields: payment)
/// try await outbox.drain()     // until the backlog is empty
/// ```
///
/// Records that Salesforce rejects for good (validation, bad field) go to the dead letters with
/// the error. Row-lock contention and outages are retried with backoff. While a circuit breaker
/// is open, or after 403 `REQUEST_LIMIT_EXCEEDED`, draining pauses instead of burning calls.
public actor Outbox {
    /// Where entries wait.
    public nonisolated let store: any OutboxStore
    /// The client that delivers them.
    public nonisolated let client: SalesforceClient
    /// The options in force.
    public nonisolated let options: OutboxOptions
    private let random: RandomSource
    var failureStreak = 0
    var limitPausedUntil: ResilienceInstant?
    /// Until when the backlog goes by collections only, after a Bulk job failed.
    var bulkSuspendedUntil: ResilienceInstant?
    /// Whether the last claim came back full: only then is the backlog counted for a Bulk hand-off.
    var lastClaimWasFull = true
    /// When the last partial batch went, for ``OutboxOptions/linger`` and budget pacing.
    private var lastPartialBatch: ResilienceInstant?
    /// Records delivered by this instance.
    public private(set) var delivered = 0
    /// Records dead-lettered by this instance.
    public private(set) var deadLettered = 0
    /// Times draining paused.
    public private(set) var pauses = 0

    /// Creates an outbox.
    public init(store: any OutboxStore, client: SalesforceClient, options: OutboxOptions = OutboxOptions(), random: RandomSource = .system()) {
        self.store = store
        self.client = client
        self.options = options
        self.random = random
    }

    /// Enqueues one record durably.
    public func enqueue<Fields: Encodable>(_ sobject: String, externalIdField: String, externalId: String, fields: Fields) async throws {
        let data = try JSONEncoder().encode(fields)
        guard case .object(var object) = try JSONDecoder().decode(JSONValue.self, from: data) else {
            throw SalesforceClientError.invalidArgument("outbox fields must encode to a JSON object")
        }
        object[externalIdField] = nil
        try await store.enqueue([OutboxEntry(sobject: sobject, externalIdField: externalIdField, externalId: externalId,
                                             fields: object, enqueuedAt: client.clock.wallClockNow)])
    }

    /// Enqueues prepared entries durably, in one write.
    public func enqueue(_ entries: [OutboxEntry]) async throws {
        try await store.enqueue(entries)
    }

    /// The number of pending records and the age of the oldest.
    public func backlog() async throws -> (count: Int, oldestAge: Duration?) {
        let (count, oldest) = try await store.backlog()
        let age = oldest.map { Duration.milliseconds(Int64(client.clock.wallClockNow.timeIntervalSince($0) * 1000)) }
        return (count, age)
    }

    /// Drains until the backlog is empty, waiting out pauses and backoff on the client's clock.
    /// With `keepRunning`, keeps polling an empty backlog until it returns `false`. `onStep` sees
    /// every step (for progress reports); an error it throws ends the drain.
    ///
    /// One loop of ``drainOnce()`` leads. With ``OutboxOptions/concurrentBatches`` above 1,
    /// helpers join it while batches go out full and clean, and stand down at the first step that
    /// is not; they end with the lead. The first error ends the drain and is thrown.
    public func drain(keepRunning: (@Sendable () async -> Bool)? = nil, onStep: (@Sendable (DrainStep) async throws -> Void)? = nil) async throws {
        guard options.concurrentBatches > 1 else {
            return try await drainLoop(keepRunning: keepRunning, onStep: onStep)
        }
        helpers = HelperGate()
        defer { endHelpers() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await self.drainLoop(keepRunning: keepRunning, onStep: onStep)
                await self.endHelpers()
            }
            for _ in 1..<options.concurrentBatches {
                group.addTask { try await self.helperLoop(onStep: onStep) }
            }
            do {
                while try await group.next() != nil {}
            } catch {
                // The first error, the lead's or a helper's, ends every loop at once.
                endHelpers()
                group.cancelAll()
                throw error
            }
        }
    }

    /// Whether `step` was a full batch that Salesforce took without a failure: the sign that
    /// more batches at once would help and hurt nobody.
    private func invitesHelpers(_ step: DrainStep) -> Bool {
        guard case .sent(let delivered, let lettered, let retrying) = step else { return false }
        return retrying == 0 && delivered + lettered >= options.batchSize
    }

    /// Helpers waiting for clean, full batches; `nil` while no concurrent drain runs.
    private var helpers: HelperGate?

    private struct HelperGate {
        var open = false
        var ended = false
        var waiting: [CheckedContinuation<Void, Never>] = []
    }

    private func follow(_ step: DrainStep) {
        guard var gate = helpers else { return }
        gate.open = invitesHelpers(step)
        let woken = gate.open ? gate.waiting : []
        if gate.open { gate.waiting = [] }
        helpers = gate
        for helper in woken { helper.resume() }
    }

    private func endHelpers() {
        guard var gate = helpers else { return }
        gate.ended = true
        let woken = gate.waiting
        gate.waiting = []
        helpers = gate
        for helper in woken { helper.resume() }
    }

    /// A helper's loop: a batch whenever the gate is open, until the lead ends.
    private func helperLoop(onStep: (@Sendable (DrainStep) async throws -> Void)?) async throws {
        while true {
            guard let gate = helpers, !gate.ended else { return }
            if !gate.open {
                await withCheckedContinuation { helpers?.waiting.append($0) }
                continue
            }
            try Task.checkCancellation()
            let step = try await drainOnce()
            follow(step)
            try await onStep?(step)
        }
    }

    /// The lead's loop: batches until the backlog is empty (or `keepRunning` says stop).
    private func drainLoop(keepRunning: (@Sendable () async -> Bool)?, onStep: (@Sendable (DrainStep) async throws -> Void)?) async throws {
        var idleWithPending = false
        while true {
            try Task.checkCancellation()
            let step = try await drainOnce()
            follow(step)
            try await onStep?(step)
            if step == .idle {
                guard let keepRunning, await keepRunning() else {
                    // `onStep` may have enqueued more; stop only when nothing is pending. Pending
                    // entries that two claims in a row could not take are other drainers':
                    // wait the idle interval for their batches to end instead of asking the
                    // store again at once.
                    if try await store.backlog().count == 0 { return }
                    if idleWithPending { try await client.clock.sleep(until: client.clock.now + wait(after: .idle)) }
                    idleWithPending = true
                    continue
                }
            }
            idleWithPending = false
            let wait = wait(after: step)
            if wait > .zero { try await client.clock.sleep(until: client.clock.now + wait) }
        }
    }

    /// How long to wait after `step` before the next ``drainOnce()``: the pause it reports, the
    /// idle interval, or — after transient failures — the retry backoff. While a breaker is open
    /// it sets the pace instead: the next batch is its probe, sent at the probe time (the next
    /// step pauses until then), not after a backoff of the outbox's own. For callers that run
    /// their own loop (a service that must not interrupt a batch on shutdown).
    public func wait(after step: DrainStep) -> Duration {
        switch step {
        case .idle:
            return options.idleInterval.atLeast(OptionLimits.idleInterval)
        case .sent(_, _, let retrying) where retrying > 0:
            if nextProbeWait(now: client.clock.now) != nil { return .zero }
            return options.retryBackoff.delay(forRetry: failureStreak, unit: random.nextUnit())
        case .sent:
            return .zero
        case .paused(_, let duration), .lingering(let duration):
            return duration
        }
    }

    /// Sends one batch, or reports why not.
    ///
    /// A batch is bounded by ``OutboxOptions/batchTimeLimit``, inside its claim's lease, and
    /// settled under that claim: an entry enqueued again while its batch was in flight stays
    /// queued at its newer version. A batch that fails for a transient reason (an outage, a token
    /// endpoint that does not answer, the time limit) goes back to the queue and the step reports
    /// it as retrying; only what retrying cannot fix is thrown.
    public func drainOnce() async throws -> DrainStep {
        if let pause = pauseNeeded() {
            pauses += 1
            client.events.emit(.outboxPaused(reason: pause.0, duration: pause.1))
            return .paused(reason: pause.0, for: pause.1)
        }
        if let handOff = options.bulkHandOff, let step = try await bulkStep(handOff) { return step }
        let lease = options.claimLease.atLeast(OptionLimits.longWait)
        let claimed = try await store.claim(limit: options.batchSize, lease: lease, groupsTogether: options.groupsTogether)
        lastClaimWasFull = claimed.count >= options.batchSize
        guard let first = claimed.first else { return .idle }
        if claimed.count < options.batchSize {
            if let wait = lingerWait(), wait > .zero {
                try await store.release(claimed.claims)
                return .lingering(for: wait)
            }
            lastPartialBatch = client.clock.now
        }
        let limit = client.clock.now + options.batchTimeLimit
        // One collections call is one sObject and external id field; the rest go back.
        let batch = claimed.filter { $0.sobject == first.sobject && $0.externalIdField == first.externalIdField }
        if batch.count < claimed.count {
            try await store.release(claimed.filter { $0.sobject != first.sobject || $0.externalIdField != first.externalIdField }.map(claimed.claim))
        }
        let records = batch.map { entry in entry.fields.merging([entry.externalIdField: .string(entry.externalId)]) { $1 } }
        let results: [RecordResult]
        do {
            let client = self.client
            let priority = options.priority
            results = try await withTimeLimit(at: limit, clock: client.clock, expired: { OutboxBatchTimeLimitError() }) {
                try await client.upsertCollection(first.sobject, externalIdField: first.externalIdField, records: records, priority: priority)
            }
        } catch {
            // Not sent, or its answer lost: the batch is free for the next claim at once.
            try? await store.release(batch.map(claimed.claim))
            // Salesforce unavailable for now (an outage, the login endpoint, the time limit) or a
            // retryable failure: the batch waits. Anything else is for the caller.
            let category = error is OutboxBatchTimeLimitError ? .deadlineExceeded : client.configuration.classifier.classify(error)
            guard category.isRetryable(idempotent: true) || category.allowsFallback else { throw error }
            failureStreak += 1
            return .sent(delivered: 0, deadLettered: 0, retrying: batch.count)
        }
        let outcomes = zip(batch, results).map { entry, result -> (OutboxEntry, RecordDelivery) in
            if result.success { return (entry, .saved) }
            if let failure = result.requestFailure { return (entry, .notProcessed(failure)) }
            return (entry, .rejected(result.errors))
        }
        return try await settle(outcomes, claimed: claimed)
    }

    /// Settles what Salesforce did with each record of a collections batch or a Bulk job, by one
    /// set of per-record rules: saved records are acknowledged; records a retry can fix (row
    /// locks, `UNKNOWN_EXCEPTION`, a duplicate on the external id) are retried up to
    /// ``OutboxOptions/recordAttemptLimit`` attempts, then dead-lettered; others are
    /// dead-lettered at once; records never processed go back with no attempt counted.
    func settle(_ outcomes: [(OutboxEntry, RecordDelivery)], claimed: OutboxClaimBatch) async throws -> DrainStep {
        var acknowledged: [OutboxClaim] = []
        var retry: [OutboxClaim] = []
        var outage: [OutboxClaim] = []
        var letters: [DeadLetter] = []
        var requestFailure: RecordResult.RequestFailure?
        let classifier = client.configuration.classifier
        for (entry, outcome) in outcomes {
            let claim = claimed.claim(entry)
            let errors: [SalesforceAPIError]
            switch outcome {
            case .saved:
                acknowledged.append(claim)
                continue
            case .notProcessed(let failure):
                if let failure { requestFailure = failure }
                outage.append(claim)
                continue
            case .rejected(let rejection):
                errors = rejection
            }
            let transient = classifier.classify(upsertRecordErrors: errors).isRetryable(idempotent: true)
            if transient && entry.attempts + 1 < options.recordAttemptLimit {
                retry.append(claim)
                continue
            }
            var reason = errors.map { "\($0.errorCode): \($0.message)" }.joined(separator: "; ")
            if reason.isEmpty { reason = "rejected without an error" }
            if transient { reason = "gave up after \(entry.attempts + 1) attempts; last error: \(reason)" }
            letters.append(DeadLetter(entry: entry, reason: reason, at: client.clock.wallClockNow, claim: claim))
        }
        let delivered = try await store.acknowledge(acknowledged)
        let lettered = Set(try await store.deadLetter(letters))
        try await store.recordAttempt(retry)
        try await store.release(outage)
        for letter in letters where lettered.contains(letter.entry.key) {
            client.events.emit(.deadLettered(key: letter.entry.key, reason: letter.reason))
        }
        self.delivered += delivered.count
        deadLettered += lettered.count
        if let requestFailure {
            switch requestFailure.category {
            case .apiLimitExceeded:
                limitPausedUntil = client.clock.now + options.limitPause.atLeast(OptionLimits.longWait)
            case .clientError, .unknown, .authenticationFailed:
                // The whole request was refused for a reason retrying cannot fix: stop and tell
                // the operator. The entries stay in the store.
                throw OutboxError.batchRejected(category: requestFailure.category, message: requestFailure.message)
            default:
                break
            }
        }
        let retrying = retry.count + outage.count
        failureStreak = retrying == 0 ? 0 : failureStreak + 1
        return .sent(delivered: delivered.count, deadLettered: lettered.count, retrying: retrying)
    }

    /// How long a partial batch should still wait: the linger, or the budget's pacing when it
    /// is longer, counted from the last partial batch.
    private func lingerWait() -> Duration? {
        guard let last = lastPartialBatch else { return nil }
        var spacing = options.linger
        if let pacing = options.budgetPacing, let usage = client.apiUsage {
            spacing = max(spacing, pacing.spacing(remaining: usage.max - usage.used))
        }
        return last + spacing - client.clock.now
    }

    private func pauseNeeded() -> (FailureCategory, Duration)? {
        let now = client.clock.now
        if !client.mode.admits(options.priority) { return (.shed, options.idleInterval.atLeast(OptionLimits.idleInterval)) }
        if let until = limitPausedUntil {
            if now < until { return (.apiLimitExceeded, until - now) }
            limitPausedUntil = nil
        }
        if let wait = nextProbeWait(now: now) { return (.circuitOpen, wait) }
        return nil
    }

    /// How long until the soonest probe of an open breaker, if one is open.
    private func nextProbeWait(now: ResilienceInstant) -> Duration? {
        client.breakers.all.values.compactMap(\.nextProbeAt).filter { $0 > now }.min().map { $0 - now }
    }
}

/// What Salesforce did with one record, as ``Outbox`` settles it.
enum RecordDelivery {
    /// Saved.
    case saved
    /// Refused with these errors: retried or dead-lettered by the per-record rules.
    case rejected([SalesforceAPIError])
    /// Not processed, or its fate unknown: sent again with no attempt counted. A request
    /// failure says why the request carrying it failed.
    case notProcessed(RecordResult.RequestFailure?)
}

/// A batch reached ``OutboxOptions/batchTimeLimit`` and was cancelled before its lease ran out.
struct OutboxBatchTimeLimitError: Error {}

/// The outbox stopped because Salesforce refused a whole batch for a reason that retrying cannot fix.
public enum OutboxError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A collections request failed with a code, data or auth error; the entries are still queued.
    case batchRejected(category: FailureCategory, message: String)

    /// A one-line explanation.
    public var description: String {
        switch self {
        case .batchRejected(let category, let message): "outbox batch rejected (\(category.rawValue)): \(message)"
        }
    }
}
