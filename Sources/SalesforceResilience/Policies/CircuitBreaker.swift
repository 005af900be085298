import Foundation

/// A circuit breaker for one key (normally one host): stops calling a server that is failing,
/// and probes it after a pause.
///
/// closed → (failures) → open → (break ends) → half-open → probe succeeds → closed,
/// or probe fails → open again. ``isolate()`` holds it open by hand; ``reset()`` closes it.
public final class CircuitBreaker: Sendable {
    /// What the breaker protects, such as `acme.my.salesforce.com`.
    public let key: String
    /// The options in force.
    public let options: CircuitBreakerOptions
    private let machine: Lock<CircuitBreakerStateMachine>
    private let clock: any ResilienceClock
    private let events: ResilienceEventSink

    /// Creates a closed breaker.
    public init(key: String, options: CircuitBreakerOptions = .default, clock: any ResilienceClock = SystemClock(), events: ResilienceEventSink = .none) {
        self.key = key
        self.options = options
        self.clock = clock
        self.events = events
        machine = Lock(CircuitBreakerStateMachine(options: options))
    }

    /// The current state. An open breaker whose break has ended reports `open` until a call arrives.
    public var state: CircuitState { machine.withLock { $0.state } }

    /// When an open breaker will let a probe through; `nil` unless open.
    public var nextProbeAt: ResilienceInstant? { machine.withLock { $0.state == .open ? $0.openUntil : nil } }

    /// Opens the breaker for `duration` on evidence from elsewhere (another worker of a fleet
    /// saw the outage), or lengthens a break that would end sooner. When it ends, this breaker
    /// probes on its own, as after an opening of its own. `duration` is capped by
    /// ``CircuitBreakerOptions/maxBreakDuration``, as the breaker's own openings are: another
    /// worker's word (or its wrong clock) never stops this one longer than its own evidence could.
    public func trip(for duration: Duration) {
        let until = clock.now + min(duration, options.maxBreakDuration)
        transition { $0.trip(until: until) }
    }

    /// Holds the breaker open until ``reset()``: for an operator who knows Salesforce is down.
    public func isolate() { transition { $0.isolate() } }

    /// Closes the breaker and forgets its counts.
    public func reset() { transition { $0.close() } }

    /// Admits a call or throws ``CircuitOpenError``.
    /// - Returns: whether the call is a half-open probe; pass it to ``record(_:probe:)``.
    public func acquire(operation: String) throws -> Bool {
        let clock = self.clock
        let permission = transition { $0.acquire(now: clock.now) }
        switch permission {
        case .allowed(let probe):
            return probe
        case .rejected(let retryAt, _):
            events.emit(.breakerRejected(key: key, operation: operation))
            throw CircuitOpenError(key: key, retryAt: retryAt, operation: operation)
        }
    }

    /// How a finished call counts.
    public enum Outcome: Sendable, Hashable {
        /// The server answered in a way that shows it is healthy.
        case success
        /// The server looks unhealthy; `retryAfter` is how long it asked us to wait.
        case failure(retryAfter: Duration?)
        /// Counts for nothing: the caller cancelled, or the call never reached the server.
        case ignored
    }

    /// Records the outcome of a call admitted by ``acquire(operation:)``.
    public func record(_ outcome: Outcome, probe: Bool) {
        let now = clock.now
        let result: CircuitBreakerStateMachine.Result = switch outcome {
        case .success: .success
        case .failure(let retryAfter): .failure(retryAfter: retryAfter)
        case .ignored: .ignored
        }
        transition { $0.record(result, probe: probe, now: now) }
    }

    private func transition<T>(_ body: (inout CircuitBreakerStateMachine) -> T) -> T {
        let (value, from, to) = machine.withLock { machine in
            let from = machine.state
            let value = body(&machine)
            return (value, from, machine.state)
        }
        if from != to { events.emit(.breakerStateChanged(key: key, from: from, to: to)) }
        return value
    }
}

/// One ``CircuitBreaker`` per key, created on first use.
public final class CircuitBreakerRegistry: Sendable {
    private struct Breakers {
        var byKey: [String: CircuitBreaker] = [:]
        /// The last URL's `scheme://host` and its host's breaker: a request to the same host
        /// finds it by a prefix comparison, without taking the host out of its URL and hashing it.
        var recent: (origin: String, breaker: CircuitBreaker)?
    }
    private let breakers = Lock(Breakers())
    private let options: CircuitBreakerOptions
    private let clock: any ResilienceClock
    private let events: ResilienceEventSink

    /// Creates an empty registry whose breakers share `options`.
    public init(options: CircuitBreakerOptions = .default, clock: any ResilienceClock = SystemClock(), events: ResilienceEventSink = .none) {
        self.options = options
        self.clock = clock
        self.events = events
    }

    /// The breaker for `key`.
    public func breaker(for key: String) -> CircuitBreaker {
        breakers.withLock { breakers in breaker(for: key, in: &breakers) }
    }

    /// The breaker for `url`'s host (percent-encoded as it appears in the URL), or for
    /// `"unknown-host"` when it has none.
    public func breaker(for url: URL) -> CircuitBreaker {
        let text = url.absoluteString
        if let recent = breakers.withLock({ $0.recent }), Self.isOrigin(recent.origin, of: text) { return recent.breaker }
        let host = url.host(percentEncoded: true) ?? "unknown-host"
        let origin = url.scheme.map { $0 + "://" + host }
        return breakers.withLock { breakers in
            let breaker = breaker(for: host, in: &breakers)
            if let origin, Self.isOrigin(origin, of: text) { breakers.recent = (origin, breaker) }
            return breaker
        }
    }

    /// Every breaker created so far, by key.
    public var all: [String: CircuitBreaker] { breakers.withLock { $0.byKey } }

    private func breaker(for key: String, in breakers: inout Breakers) -> CircuitBreaker {
        if let existing = breakers.byKey[key] { return existing }
        let breaker = CircuitBreaker(key: key, options: options, clock: clock, events: events)
        breakers.byKey[key] = breaker
        return breaker
    }

    /// Whether `url` starts with `origin` (`scheme://host`) and the host ends there: at a port,
    /// a path, a query, a fragment, or the end.
    private static func isOrigin(_ origin: String, of url: String) -> Bool {
        var (origin, url) = (origin, url)
        return url.withUTF8 { url in
            origin.withUTF8 { origin in
                guard url.count >= origin.count, origin.count > 0,
                      memcmp(url.baseAddress!, origin.baseAddress!, origin.count) == 0 else { return false }
                guard url.count > origin.count else { return true }
                let next = url[origin.count]
                return next == UInt8(ascii: "/") || next == UInt8(ascii: ":") || next == UInt8(ascii: "?") || next == UInt8(ascii: "#")
            }
        }
    }
}
