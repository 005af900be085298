/// Holds the current token and makes sure concurrent callers share one fetch.
///
/// When a thousand requests holding the same expired token fail at once, the first
/// ``refresh(replacing:)`` starts one fetch; the others wait for it, and any that arrive after
/// it finished get the new token at once because theirs is stale. A failed fetch drops the
/// token, reaches every waiter, and is not retried here. More than
/// ``maxRefreshesPerWindow`` refreshes within ``refreshWindow`` is an error, not a loop.
public actor TokenStore {
    /// The source of tokens.
    public nonisolated let provider: any TokenProvider
    /// The window for counting refreshes. Default 60 s.
    public nonisolated let refreshWindow: Duration
    /// Refreshes allowed within ``refreshWindow``. Default 5.
    public nonisolated let maxRefreshesPerWindow: Int
    private let clock: any ResilienceClock
    private let events: ResilienceEventSink
    private var current: AccessToken?
    private var inFlight: Task<AccessToken, any Error>?
    private var refreshes: [ResilienceInstant] = []

    /// Creates a store.
    public init(
        provider: any TokenProvider, clock: any ResilienceClock = SystemClock(), events: ResilienceEventSink = .none,
        refreshWindow: Duration = .seconds(60), maxRefreshesPerWindow: Int = 5
    ) {
        self.provider = provider
        self.clock = clock
        self.events = events
        self.refreshWindow = refreshWindow
        self.maxRefreshesPerWindow = max(1, maxRefreshesPerWindow)
    }

    /// The current token, fetching one if there is none.
    public func token() async throws -> AccessToken {
        if let current { return current }
        return try await fetch()
    }

    /// A token newer than `stale`: the one another caller already fetched, the one being
    /// fetched, or a new fetch.
    public func refresh(replacing stale: AccessToken) async throws -> AccessToken {
        if let current, current.value != stale.value { return current }
        if inFlight == nil {
            let now = clock.now
            refreshes.removeAll { now - $0 >= refreshWindow }
            guard refreshes.count < maxRefreshesPerWindow else {
                current = nil
                throw AuthenticationError.refreshLimitReached(count: refreshes.count, window: refreshWindow)
            }
            refreshes.append(now)
            current = nil
            events.emit(.tokenRefreshStarted)
        }
        return try await fetch()
    }

    /// Forgets the current token; the next call fetches a new one.
    public func invalidate() {
        current = nil
    }

    private func fetch() async throws -> AccessToken {
        if let inFlight { return try await inFlight.value }
        let provider = self.provider
        let task = Task { try await provider.fetchToken() }
        inFlight = task
        do {
            let token = try await task.value
            current = token
            inFlight = nil
            return token
        } catch {
            current = nil
            inFlight = nil
            events.emit(.tokenRefreshFailed(reason: OutcomeClassifier().classify(error)))
            throw error
        }
    }
}
