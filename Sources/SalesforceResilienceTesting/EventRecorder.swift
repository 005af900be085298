import SalesforceResilience

/// Collects ``ResilienceEvent``s for assertions.
public final class EventRecorder: Sendable {
    private let recorded = Lock<[ResilienceEvent]>([])

    /// Creates an empty recorder.
    public init() {}

    /// A sink that appends to this recorder.
    public var sink: ResilienceEventSink {
        ResilienceEventSink { [self] event in self.recorded.withLock { $0.append(event) } }
    }

    /// Every event so far, in order.
    public var events: [ResilienceEvent] { recorded.withLock { $0 } }

    /// Forgets every event.
    public func clear() { recorded.withLock { $0.removeAll() } }
}
