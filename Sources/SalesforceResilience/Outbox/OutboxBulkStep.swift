import Foundation

extension Outbox {
    /// One drain step by Bulk API 2.0, when ``OutboxOptions/bulkHandOff`` applies and the backlog
    /// has reached its threshold; `nil` when the step should go by collections.
    ///
    /// The backlog is counted only after a full claim (or a Bulk step), so a trickle of records
    /// costs the store no count per batch.
    func bulkStep(_ handOff: BulkHandOff) async throws -> DrainStep? {
        guard !options.groupsTogether, lastClaimWasFull else { return nil }
        let start = client.clock.now
        if let until = bulkSuspendedUntil {
            if start < until { return nil }
            bulkSuspendedUntil = nil
        }
        guard try await store.backlog().count >= handOff.threshold else { return nil }
        let claimed = try await store.claim(limit: handOff.maxRecordsPerJob, lease: handOff.lease, groupsTogether: false)
        // One job is one sObject and external id field, of entries that all have CSV cells.
        var cells: [[String: String]?] = claimed.map(BulkCells.cells)
        guard let lead = claimed.indices.first(where: { cells[$0] != nil }).map({ claimed[$0] }) else {
            try await store.release(claimed.claims)
            return nil
        }
        var job: [OutboxEntry] = []
        var others: [OutboxClaim] = []
        for (position, entry) in claimed.entries.enumerated() {
            if entry.sobject == lead.sobject, entry.externalIdField == lead.externalIdField, cells[position] != nil {
                job.append(entry)
            } else {
                others.append(claimed.claim(entry))
                cells[position] = nil
            }
        }
        // Too few for a job (other drainers hold the rest): a collections batch takes them.
        guard job.count >= options.batchSize else {
            try await store.release(claimed.claims)
            return nil
        }
        try await store.release(others)
        lastClaimWasFull = true
        let field = lead.externalIdField
        let jobCells = cells.compactMap { $0 }
        var names: Set<String> = []
        for row in jobCells { names.formUnion(row.keys) }
        names.remove(field)
        let header = [field] + names.sorted()
        let rows = jobCells.map { row in header.map { row[$0] ?? "" } }

        let client = self.client
        let ingest = BulkIngestOptions(poll: handOff.poll, priority: options.priority)
        var result: BulkIngestResult
        var failure: (any Error)?
        do {
            result = try await withTimeLimit(at: start + handOff.jobTimeLimit, clock: client.clock, expired: { OutboxBatchTimeLimitError() }) {
                try await client.bulkIngest(lead.sobject, operation: .upsert, externalIdField: field, header: header, rows: rows,
                                            matchColumns: [field], options: ingest)
            }
        } catch let stopped as BulkIngestError where !(stopped.reason is CancellationError) {
            result = stopped.partial
            failure = stopped.reason
        } catch {
            // Cancelled, or past the time limit with nothing read: every entry goes back. An
            // upsert sent again by external id cannot make a duplicate.
            try? await store.release(job.map(claimed.claim))
            guard error is OutboxBatchTimeLimitError else { throw error }
            suspendBulk(handOff, reason: "a job passed its time limit of \(handOff.jobTimeLimit)")
            failureStreak += 1
            return .sent(delivered: 0, deadLettered: 0, retrying: job.count)
        }
        if let failure { noteBulkFailure(failure, handOff: handOff) }
        var outcomes: [(OutboxEntry, RecordDelivery)] = job.map { ($0, .notProcessed(nil)) }
        for row in result.records where outcomes.indices.contains(row.index) {
            switch row.outcome {
            case .succeeded: outcomes[row.index].1 = .saved
            case .failed(let error): outcomes[row.index].1 = .rejected([BulkCells.recordError(error)])
            case .unprocessed, .unknown: break
            }
        }
        return try await settle(outcomes, claimed: claimed)
    }

    /// What a job's failure means for the next steps: an exhausted API limit pauses draining;
    /// an outage is retried like a collections batch; anything else (the job failed, was
    /// aborted or timed out; Bulk API refused it) puts the outbox on collections for a while.
    private func noteBulkFailure(_ failure: any Error, handOff: BulkHandOff) {
        let category = client.configuration.classifier.classify(failure)
        if category == .apiLimitExceeded {
            limitPausedUntil = client.clock.now + options.limitPause.atLeast(OptionLimits.longWait)
        } else if failure is BulkError || !(category.isRetryable(idempotent: true) || category.allowsFallback) {
            suspendBulk(handOff, reason: String(describing: failure))
        }
    }

    private func suspendBulk(_ handOff: BulkHandOff, reason: String) {
        bulkSuspendedUntil = client.clock.now + handOff.fallbackPeriod
        client.events.emit(.outboxBulkSuspended(reason: reason, duration: handOff.fallbackPeriod))
    }
}

/// How an outbox entry becomes a row of a Bulk API CSV upload, and a result row's error an
/// API error.
enum BulkCells {
    /// The entry's cells by column, its external id included; `nil` when a value has no cell
    /// that Salesforce would read back as the same value (see ``BulkHandOff``).
    static func cells(_ entry: OutboxEntry) -> [String: String]? {
        var cells: [String: String] = [:]
        cells.reserveCapacity(entry.fields.count + 1)
        for (name, value) in entry.fields where name != entry.externalIdField {
            guard let cell = cell(value) else { return nil }
            cells[name] = cell
        }
        cells[entry.externalIdField] = entry.externalId
        return cells
    }

    /// One value's cell: `#N/A` for null and the empty string (null, as in a JSON upsert).
    static func cell(_ value: JSONValue) -> String? {
        switch value {
        case .null: return "#N/A"
        case .bool(let flag): return flag ? "true" : "false"
        case .string(let text): return text.isEmpty ? "#N/A" : text == "#N/A" ? nil : text
        case .number(let number):
            guard number.isFinite else { return nil }
            if number == number.rounded(), abs(number) < 1e15 { return String(Int64(number)) }
            let text = "\(number)"
            return text.contains("e") ? nil : text
        case .object, .array: return nil
        }
    }

    /// `sf__Error` text (`CODE:message:fields`) as an API error.
    static func recordError(_ text: String) -> SalesforceAPIError {
        guard let colon = text.firstIndex(of: ":") else { return SalesforceAPIError(message: text, errorCode: text.allSatisfy(isCodeCharacter) ? text : "") }
        let code = String(text[..<colon])
        guard !code.isEmpty, code.allSatisfy(isCodeCharacter) else { return SalesforceAPIError(message: text, errorCode: "") }
        var message = String(text[text.index(after: colon)...])
        if message.hasSuffix(":--") { message.removeLast(3) }
        return SalesforceAPIError(message: message, errorCode: code)
    }

    private static func isCodeCharacter(_ character: Character) -> Bool {
        character == "_" || ("A"..."Z").contains(character) || ("0"..."9").contains(character)
    }
}
