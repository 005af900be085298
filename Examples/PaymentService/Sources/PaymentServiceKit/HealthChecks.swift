import Foundation
import SalesforceResilience
import SalesforceResiliencePubSub
import Synchronization

/// What `/health` and `/ready` answer: named checks an operator can read.
///
/// - `/health` (liveness): 200 while the worker runs, 503 once it has stopped on an error or is
///   stuck (no step finished long after one was due).
/// - `/ready` (readiness): 200 when work can go out now — the store and the login endpoint
///   answering, a token that works, a mode that lets the outbox's critical calls through, API
///   usage below the shedding threshold, no open breaker, and for the `events` command a stream
///   open on the topic — else 503 naming what is not.
/// Both list every check, so either page explains the service's state.
struct HealthReport: Encodable, Sendable {
    struct Check: Encodable, Sendable, Equatable {
        var name: String
        var ok: Bool
        var detail: String
    }

    var status: String
    var checks: [Check]

    var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return (try? String(decoding: encoder.encode(self), as: UTF8.self)) ?? "{}"
    }
}

/// Keeps what the checks cannot ask the client: whether the token works, whether the worker
/// still runs. Fed by the client's events.
final class HealthState: Sendable {
    private struct State {
        var tokenFailure: FailureCategory?
        var anyCallSucceeded = false
        var workerFailure: String?
        /// What each worker is retrying (the store unreachable, the login endpoint failing), by
        /// worker: the outbox's drainer and the events handler retry apart, and one recovering
        /// does not clear the other's.
        var retrying: [HealthState.Worker: String] = [:]
        /// When the worker must next be heard from; past it, it is stuck.
        var dueBy: ContinuousClock.Instant?
    }

    /// Who reports a retry.
    enum Worker: String, Sendable, Comparable {
        /// The outbox's drainer.
        case outbox
        /// The events command's handler, enqueueing results.
        case events

        static func < (lhs: Worker, rhs: Worker) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    private let state = Mutex(State())
    /// How long past an expected step the worker may be silent before `/health` calls it stuck:
    /// a batch, a store operation and some slack.
    let stuckAfter: Duration

    init(stuckAfter: Duration = .seconds(120)) {
        self.stuckAfter = stuckAfter
    }

    var sink: ResilienceEventSink {
        ResilienceEventSink { [self] event in
            switch event {
            case .tokenRefreshFailed(let reason):
                state.withLock { $0.tokenFailure = reason }
            case .callCompleted(_, nil, _, _):
                state.withLock {
                    $0.tokenFailure = nil
                    $0.anyCallSucceeded = true
                }
            default:
                break
            }
        }
    }

    func workerFailed(_ error: any Error) {
        state.withLock { $0.workerFailure = String(describing: error) }
    }

    /// `worker` is retrying after `error`: not ready until it recovers.
    func workerRetrying(_ error: any Error, worker: Worker = .outbox) {
        state.withLock { $0.retrying[worker] = String(describing: error) }
    }

    /// Whether any worker is retrying a failure now.
    var isRetrying: Bool { state.withLock { !$0.retrying.isEmpty } }

    /// `worker`'s steps succeed again.
    func workerRecovered(worker: Worker = .outbox) {
        state.withLock { _ = $0.retrying.removeValue(forKey: worker) }
    }

    /// The worker finished a step and will be quiet for `wait` (a pause, a backoff).
    func beat(quietFor wait: Duration) {
        let due = ContinuousClock.now + wait + stuckAfter
        state.withLock { $0.dueBy = due }
    }

    /// The checks, now.
    func checks(client: SalesforceClient, outbox: Outbox, subscription: PubSubSubscriber? = nil) async -> [HealthReport.Check] {
        let snapshot = state.withLock { $0 }
        var checks: [HealthReport.Check] = []
        let stuck = snapshot.dueBy.map { ContinuousClock.now > $0 } ?? false
        let workerDetail = if let failure = snapshot.workerFailure { "stopped: \(failure)" }
            else if stuck { "stuck: no step finished within \(stuckAfter) of when one was due" } else { "running" }
        checks.append(.init(name: "worker", ok: snapshot.workerFailure == nil && !stuck, detail: workerDetail))
        let retrying = snapshot.retrying.sorted { $0.key < $1.key }
            .map { snapshot.retrying.count > 1 ? "retrying (\($0.key.rawValue)): \($0.value)" : "retrying: \($0.value)" }
        checks.append(.init(name: "store and login", ok: retrying.isEmpty,
                            detail: retrying.isEmpty ? "answering" : retrying.joined(separator: "; ")))
        let tokenDetail = if let failure = snapshot.tokenFailure { "the last token request failed (\(failure.rawValue))" }
            else if snapshot.anyCallSucceeded { "valid: the last call succeeded with it" } else { "not yet used" }
        checks.append(.init(name: "token", ok: snapshot.tokenFailure == nil, detail: tokenDetail))
        let mode = client.mode
        checks.append(.init(name: "operating mode", ok: mode.admits(.critical), detail: mode.rawValue))
        if let usage = client.apiUsage {
            let threshold = client.configuration.apiBudget.shedThreshold
            checks.append(.init(name: "API usage", ok: usage.fraction < threshold && !client.budgetGuard.isShedding,
                                detail: "\(usage.used) of \(usage.max) (\(Int(usage.fraction * 100)) %, shedding at \(Int(threshold * 100)) %)"))
        } else {
            checks.append(.init(name: "API usage", ok: true, detail: "not reported yet"))
        }
        for (host, breaker) in client.breakers.all.sorted(by: { $0.key < $1.key }) {
            let state = breaker.state
            let probe = breaker.nextProbeAt.map { " until \(($0 - client.clock.now).formatted(.units(allowed: [.seconds], width: .abbreviated))) from now" } ?? ""
            checks.append(.init(name: "circuit breaker \(host)", ok: state == .closed, detail: state.rawValue + probe))
        }
        if let subscription { checks.append(Self.check(subscription.topic, await subscription.status)) }
        // Not asked while the worker is retrying: a frozen store would hold the page for its query timeout.
        if snapshot.retrying.isEmpty, let (count, age) = try? await outbox.backlog() {
            let oldest = age.map { "oldest \($0.formatted(.units(allowed: [.hours, .minutes, .seconds], width: .abbreviated)))" } ?? "empty"
            checks.append(.init(name: "backlog", ok: true, detail: "\(count) queued, \(oldest)"))
        }
        return checks
    }

    /// `/health`: alive unless the worker stopped.
    func liveness(client: SalesforceClient, outbox: Outbox, subscription: PubSubSubscriber? = nil) async -> (Int, HealthReport) {
        let checks = await checks(client: client, outbox: outbox, subscription: subscription)
        let alive = checks.first { $0.name == "worker" }?.ok ?? false
        return (alive ? 200 : 503, HealthReport(status: alive ? "alive" : "down", checks: checks))
    }

    /// `/ready`: ready when every check passes.
    func readiness(client: SalesforceClient, outbox: Outbox, subscription: PubSubSubscriber? = nil) async -> (Int, HealthReport) {
        let checks = await checks(client: client, outbox: outbox, subscription: subscription)
        let ready = checks.allSatisfy(\.ok)
        return (ready ? 200 : 503, HealthReport(status: ready ? "ready" : "not ready", checks: checks))
    }

    /// The subscription's check: passing while a stream is open on the topic; the detail is what
    /// the runbook's "events not receiving" branch asks (state, events handled, resubscribes,
    /// silent streams rebuilt, when the stream was last heard from).
    static func check(_ topic: String, _ status: SubscriptionStatus, now: Date = Date()) -> HealthReport.Check {
        let state: String
        switch status.state {
        case .starting: state = "starting"
        case .subscribed: state = "subscribed"
        case .resubscribing: state = "resubscribing"
        case .stopped(let why): state = "stopped: \(why)"
        }
        let heard = status.lastHeardAt.map { "last heard \(Int(now.timeIntervalSince($0).rounded())) s ago" } ?? "nothing heard yet"
        return .init(name: "subscription \(topic)", ok: status.state == .subscribed,
                     detail: "\(state); \(status.handled) handled, \(status.duplicatesSkipped) duplicates skipped, \(status.resubscribes) resubscribes, "
                         + "\(status.silentStreamsRebuilt) silent streams rebuilt, \(status.keepalives) keepalives; \(heard)")
    }
}
