import Foundation
import SalesforceResilience
import SalesforceResilienceTesting

/// A request to a fixed test host.
func makeRequest(_ method: HTTPMethod = .get, path: String = "/services/data/v62.0/sobjects/Account/001", host: String = "test.my.salesforce.com") -> HTTPRequest {
    HTTPRequest(method: method, url: URL(string: "https://\(host)\(path)")!)
}

/// A context for `request` with explicit idempotency.
func makeContext(idempotent: Bool = true, operation: String = "test") -> RequestContext {
    RequestContext(operation: operation, isIdempotent: idempotent)
}

extension ResilienceEvent {
    /// The delay of a `retryScheduled` event.
    var retryDelay: Duration? {
        if case .retryScheduled(_, _, let delay, _, _) = self { return delay }
        return nil
    }

    /// Whether this is a `budgetExhausted` event.
    var isBudgetExhausted: Bool {
        if case .budgetExhausted = self { return true }
        return false
    }

    /// The stop reason of a `retriesExhausted` event.
    var exhaustedLimit: RetryStopReason? {
        if case .retriesExhausted(_, _, _, let limit) = self { return limit }
        return nil
    }

    /// The transition of a `breakerStateChanged` event.
    var breakerTransition: (CircuitState, CircuitState)? {
        if case .breakerStateChanged(_, let from, let to) = self { return (from, to) }
        return nil
    }
}
