import Foundation

extension SalesforceClient {
    /// Polls a job until it is terminal, with a growing interval.
    ///
    /// A failed poll that is an outage (retries exhausted, breaker open) does not lose the job:
    /// the poller waits and polls again until the timeout. Cancellation or the timeout abort the
    /// job on the server before returning. Every state change is an event.
    func pollJob(kind: String, id: String, policy: BulkPollPolicy, priority: RequestContext.Priority) async throws -> BulkJobInfo {
        let started = clock.now
        var lastState = BulkJobState.uploadComplete
        var poll = 0
        while true {
            poll += 1
            do {
                // The last wait ends at the timeout, not an interval past it.
                let timeout = started + policy.timeout.atLeast(OptionLimits.longWait)
                try await clock.sleep(until: min(clock.now + policy.interval(forPoll: poll), timeout))
                if clock.now >= timeout {
                    await abortJob(kind: kind, id: id)
                    throw BulkError.timedOut(jobID: id, lastState: lastState)
                }
                let info = try await jobInfo(kind: kind, id: id, priority: priority)
                if info.state != lastState {
                    events.emit(.bulkJobStateChanged(jobID: id, state: info.state, processed: info.numberRecordsProcessed ?? 0, failed: info.numberRecordsFailed ?? 0))
                    lastState = info.state
                }
                switch info.state {
                case .jobComplete: return info
                case .failed: throw BulkError.jobFailed(jobID: id, message: info.errorMessage ?? "no errorMessage")
                case .aborted: throw BulkError.jobAborted(jobID: id)
                default: continue
                }
            } catch is CancellationError {
                await abortJob(kind: kind, id: id)
                throw CancellationError()
            } catch {
                let category = configuration.classifier.classify(error)
                if category == .cancelled {
                    await abortJob(kind: kind, id: id)
                    throw CancellationError()
                }
                // An outage while polling: keep the job, try again at the next interval.
                guard category.isRetryable(idempotent: true) || category == .circuitOpen || category == .deadlineExceeded else { throw error }
            }
        }
    }

    /// `GET jobs/{kind}/{id}`.
    func jobInfo(kind: String, id: String, priority: RequestContext.Priority) async throws -> BulkJobInfo {
        let url = try dataURL(["jobs", kind, FormEncoding.percentEncode(id)])
        let context = RequestContext(operation: "bulk \(kind) status", isIdempotent: true, priority: priority)
        return try await sendJSON(.get, url, context: context, as: BulkJobInfo.self)
    }

    /// Sets the job `Aborted`, from a task of its own so that the caller's cancellation does not
    /// cancel the abort. Failures are swallowed: the job may already be terminal.
    func abortJob(kind: String, id: String) async {
        let task = Task {
            let url = try self.dataURL(["jobs", kind, FormEncoding.percentEncode(id)])
            let context = RequestContext(operation: "bulk \(kind) abort", isIdempotent: true, priority: .critical)
            _ = try await self.send(self.jsonRequest(.patch, url, body: Data(#"{"state":"Aborted"}"#.utf8)), context: context)
        }
        _ = try? await task.value
        events.emit(.bulkJobStateChanged(jobID: id, state: .aborted, processed: 0, failed: 0))
    }
}
