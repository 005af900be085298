#if Observability // the package trait that brings this module's dependencies
import CoreMetrics
import Foundation
import Metrics
import SalesforceResilience

/// SalesforceResilience's figures as swift-metrics counters, timers and gauges, with stable names
/// and a small fixed set of labels (never a record id, an external id or a query).
///
/// | name | kind | labels | from |
/// |---|---|---|---|
/// | `salesforce_calls_total` | counter | `outcome` (`success` or a failure category) | every finished call |
/// | `salesforce_call_duration_seconds` | timer | `outcome` | every finished call, retries included |
/// | `salesforce_retries_total` | counter | `reason` (failure category) | each retry scheduled |
/// | `salesforce_retry_budget_exhausted_total` | counter | `reason` | a retry refused by the budget |
/// | `salesforce_breaker_state` | gauge | `host` | 0 closed, 1 half-open, 2 open, 3 isolated |
/// | `salesforce_breaker_opens_total` | counter | `host` | each opening |
/// | `salesforce_token_refreshes_total` | counter | — | each refresh after a 401 |
/// | `salesforce_token_refresh_failures_total` | counter | `reason` | a failed token request |
/// | `salesforce_tokens_adopted_total` | counter | — | a token another process stored, used without a token request |
/// | `salesforce_api_requests_used` / `salesforce_api_requests_limit` | gauge | — | `Sforce-Limit-Info` (``observe(_:)``) |
/// | `salesforce_api_usage_ratio` | gauge | — | used ÷ limit |
/// | `salesforce_operating_mode` | gauge | `mode` | 1 for the current mode, 0 for the others |
/// | `salesforce_outbox_backlog` | gauge | — | pending records (``observe(_:)``) |
/// | `salesforce_outbox_oldest_age_seconds` | gauge | — | age of the oldest pending record |
/// | `salesforce_outbox_dead_letters_total` | counter | `sobject` | each record given up |
/// | `salesforce_outbox_pauses_total` | counter | `reason` | each pause of the drain |
/// | `salesforce_fallbacks_served_total` | counter | `reason` | a cached result served |
/// | `salesforce_send_rate_limit` | gauge | — | the adaptive throttle's requests per second; 0 while there is no limit |
///
/// Counters and timers come from ``sink``; gauges that read state (API usage, backlog, breakers,
/// mode) are refreshed by ``observe(_:)`` and ``observe(_:)-(Outbox)``: call them before a
/// scrape, or on a timer.
public final class ResilienceMetrics: Sendable {
    private let factory: any MetricsFactory
    private let prefix: String

    /// Creates the bridge. `factory` defaults to the process's `MetricsSystem`.
    public init(factory: any MetricsFactory = MetricsSystem.factory, prefix: String = "salesforce") {
        self.factory = factory
        self.prefix = prefix
    }

    /// The event sink that feeds the counters and timers; combine it with others with
    /// ``ResilienceEventSink/combining(_:)``.
    public var sink: ResilienceEventSink {
        ResilienceEventSink { [self] event in record(event) }
    }

    /// Counts one event.
    public func record(_ event: ResilienceEvent) {
        switch event {
        case .callCompleted(_, let outcome, _, let duration):
            let label = outcome?.rawValue ?? "success"
            counter("calls_total", ["outcome": label]).increment()
            timer("call_duration_seconds", ["outcome": label]).recordNanoseconds(Self.nanoseconds(duration))
        case .retryScheduled(_, _, _, let reason, _):
            counter("retries_total", ["reason": reason.rawValue]).increment()
        case .budgetExhausted(_, let reason):
            counter("retry_budget_exhausted_total", ["reason": reason.rawValue]).increment()
        case .breakerStateChanged(let key, _, let to):
            gauge("breaker_state", ["host": key]).record(Self.value(of: to))
            if to == .open { counter("breaker_opens_total", ["host": key]).increment() }
        case .tokenRefreshStarted:
            counter("token_refreshes_total", [:]).increment()
        case .tokenRefreshFailed(let reason):
            counter("token_refresh_failures_total", ["reason": reason.rawValue]).increment()
        case .tokenAdopted:
            counter("tokens_adopted_total", [:]).increment()
        case .credentialNotStored:
            counter("credential_store_write_failures_total", [:]).increment()
        case .credentialStored:
            counter("credential_store_writes_recovered_total", [:]).increment()
        case .modeChanged(_, let to):
            recordMode(to)
        case .deadLettered(let key, _):
            counter("outbox_dead_letters_total", ["sobject": String(key.split(separator: "/").first ?? "")]).increment()
        case .outboxPaused(let reason, _):
            counter("outbox_pauses_total", ["reason": reason.rawValue]).increment()
        case .outboxBulkSuspended:
            counter("outbox_bulk_suspensions_total", [:]).increment()
        case .fallbackServed(_, _, let reason):
            counter("fallbacks_served_total", ["reason": reason.rawValue]).increment()
        case .sendRateChanged(let rate):
            gauge("send_rate_limit", [:]).record(rate ?? 0)
        case .attemptStarted, .retriesExhausted, .breakerRejected, .apiUsageThresholdCrossed, .bulkJobStateChanged:
            break
        }
    }

    /// Refreshes the gauges that read a client's state: API usage, breakers, operating mode.
    public func observe(_ client: SalesforceClient) {
        if let usage = client.apiUsage {
            gauge("api_requests_used", [:]).record(usage.used)
            gauge("api_requests_limit", [:]).record(usage.max)
            gauge("api_usage_ratio", [:]).record(usage.fraction)
        }
        for (host, breaker) in client.breakers.all { gauge("breaker_state", ["host": host]).record(Self.value(of: breaker.state)) }
        recordMode(client.mode)
    }

    /// Refreshes the outbox gauges: backlog and the age of its oldest record.
    public func observe(_ outbox: Outbox) async throws {
        let (count, oldest) = try await outbox.backlog()
        gauge("outbox_backlog", [:]).record(count)
        gauge("outbox_oldest_age_seconds", [:]).record(oldest.map { Double(Self.nanoseconds($0)) / 1e9 } ?? 0)
    }

    private func recordMode(_ mode: OperatingMode) {
        for each in OperatingMode.allCases { gauge("operating_mode", ["mode": each.rawValue]).record(each == mode ? 1 : 0) }
    }

    func counter(_ name: String, _ labels: [String: String]) -> Counter {
        Counter(label: "\(prefix)_\(name)", dimensions: labels.sorted { $0.key < $1.key }, factory: factory)
    }

    func gauge(_ name: String, _ labels: [String: String]) -> Gauge {
        Gauge(label: "\(prefix)_\(name)", dimensions: labels.sorted { $0.key < $1.key }, factory: factory)
    }

    private func timer(_ name: String, _ labels: [String: String]) -> Metrics.Timer {
        Metrics.Timer(label: "\(prefix)_\(name)", dimensions: labels.sorted { $0.key < $1.key }, factory: factory)
    }

    static func value(of state: CircuitState) -> Int {
        switch state {
        case .closed: 0
        case .halfOpen: 1
        case .open: 2
        case .isolated: 3
        }
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
#endif
