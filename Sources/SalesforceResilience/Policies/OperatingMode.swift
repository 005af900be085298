import Foundation
import Synchronization

/// The operator's kill switch: how much traffic the client lets through, switchable at run time.
public enum OperatingMode: String, Sendable, Hashable, CaseIterable {
    /// Everything goes out.
    case normal
    /// Only requests marked ``RequestContext/Priority-swift.enum/critical`` go out; the rest fail
    /// fast with ``AdmissionError``. The runbook's `SF_CRITICAL_ONLY`.
    case criticalOnly
    /// Nothing goes out: reads are served from the cache by ``SalesforceClient/queryWithFallback(_:as:cache:key:priority:)``,
    /// writes fail fast so the caller queues them. The runbook's "enable fallback mode".
    case fallback
    /// Nothing goes out at all.
    case paused

    /// The mode named by the environment: `SF_FALLBACK_MODE=true` → fallback,
    /// `SF_CRITICAL_ONLY=true` → criticalOnly (fallback wins if both are set), else normal.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> OperatingMode {
        func isSet(_ name: String) -> Bool { ["true", "1", "yes"].contains(environment[name]?.lowercased() ?? "") }
        if isSet("SF_FALLBACK_MODE") { return .fallback }
        if isSet("SF_CRITICAL_ONLY") { return .criticalOnly }
        return .normal
    }

    /// Whether a request of `priority` may go out in this mode.
    public func admits(_ priority: RequestContext.Priority) -> Bool {
        switch self {
        case .normal: true
        case .criticalOnly: priority == .critical
        case .fallback, .paused: false
        }
    }
}

/// A shared, thread-safe holder of the current ``OperatingMode``.
public final class ModeSwitch: Sendable {
    /// The mode as a number: every request reads it, so without a lock.
    private let current: Atomic<UInt8>
    private let events: ResilienceEventSink

    /// Creates a switch in `mode`.
    public init(_ mode: OperatingMode = .normal, events: ResilienceEventSink = .none) {
        current = Atomic(Self.index(of: mode))
        self.events = events
    }

    /// The mode now; setting it takes effect for the next request, requests in flight finish.
    public var mode: OperatingMode {
        get { Self.mode(at: current.load(ordering: .acquiring)) }
        set {
            let old = Self.mode(at: current.exchange(Self.index(of: newValue), ordering: .acquiringAndReleasing))
            if old != newValue { events.emit(.modeChanged(from: old, to: newValue)) }
        }
    }

    private static func index(of mode: OperatingMode) -> UInt8 {
        switch mode {
        case .normal: 0
        case .criticalOnly: 1
        case .fallback: 2
        case .paused: 3
        }
    }

    private static func mode(at index: UInt8) -> OperatingMode {
        switch index {
        case 1: .criticalOnly
        case 2: .fallback
        case 3: .paused
        default: .normal
        }
    }
}

/// A request refused before it was sent, by the operating mode or the API budget guard.
public struct AdmissionError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Why.
    public enum Reason: Sendable, Hashable {
        /// The operator's mode does not admit the request.
        case mode(OperatingMode)
        /// The API budget guard is shedding non-critical work.
        case apiBudget(fraction: Double)
    }

    /// Why it was refused.
    public var reason: Reason
    /// The operation refused.
    public var operation: String

    /// Creates the error.
    public init(reason: Reason, operation: String) {
        self.reason = reason
        self.operation = operation
    }

    /// A one-line explanation.
    public var description: String {
        switch reason {
        case .mode(let mode): "\(operation): not sent, operating mode is \(mode.rawValue)"
        case .apiBudget(let fraction): "\(operation): not sent, shedding non-critical work at \(Int(fraction * 100)) % of the daily API limit"
        }
    }
}
