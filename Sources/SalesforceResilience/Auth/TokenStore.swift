/// Holds the current token and makes sure concurrent callers, in this process and in every
/// process sharing its ``CredentialStore``, share one fetch.
///
/// When a thousand requests holding the same expired token fail at once, the first
/// ``refresh(replacing:)`` starts one fetch; the others wait for it, and any that arrive after
/// it finished get the new token at once because theirs is stale. Across processes the shared
/// store decides: a token another process already stored is taken without a request, and one
/// process at a time (the store's refresh lock) asks the token endpoint, presenting the newest
/// refresh token and storing the rotated one before any waiter is released.
///
/// A definite refusal (``AuthenticationError/refused(_:)``) is returned to every caller for
/// ``TokenRefreshOptions/refusalCooldown`` without asking again; new tokens rejected before
/// serving a single request are a loop (``AuthenticationError/refreshLoop(rejectedTokens:hold:)``).
public actor TokenStore {
    /// The source of tokens.
    public nonisolated let provider: any TokenProvider
    /// Where the token is shared: ``InMemoryCredentialStore`` unless another is given.
    public nonisolated let credentials: any CredentialStore
    /// The guards' settings.
    public nonisolated let options: TokenRefreshOptions
    private let clock: any ResilienceClock
    private let events: ResilienceEventSink
    private var current: AccessToken?
    /// The value of a token dropped by ``invalidate()``: the next fetch must not return it.
    private var dropped: String?
    private var inFlight: Task<AccessToken, any Error>?
    /// Callers waiting on a fetch someone else started (tests watch it to order a race).
    private(set) var joiners = 0
    private var refreshGuard: RefreshGuard
    /// The last token a request succeeded with (``confirm(_:)``), outside the actor so that
    /// confirming costs a lock, not a hop.
    private nonisolated let proven = Lock<String?>(nil)

    /// Creates a store.
    ///
    /// - Parameters:
    ///   - credentials: where the token and refresh token live; share a ``FileCredentialStore``
    ///     (or a database store) between processes so they share one refresh.
    public init(
        provider: any TokenProvider, clock: any ResilienceClock = SystemClock(), events: ResilienceEventSink = .none,
        credentials: any CredentialStore = InMemoryCredentialStore(), options: TokenRefreshOptions = .default
    ) {
        self.provider = provider
        self.clock = clock
        self.events = events
        self.credentials = credentials
        self.options = options
        self.refreshGuard = RefreshGuard(options: options)
    }

    /// The current token: this process's, the shared store's, or a new fetch.
    public func token() async throws -> AccessToken {
        try refreshGuard.check(now: clock.now)
        if let current { return current }
        return try await fetch(replacing: dropped)
    }

    /// A token newer than `stale`: the one another caller or process already fetched, the one
    /// being fetched, or a new fetch.
    public func refresh(replacing stale: AccessToken) async throws -> AccessToken {
        if let current, current.value != stale.value { return current }
        if inFlight == nil {
            let now = clock.now
            try refreshGuard.check(now: now)
            current = nil
            dropped = stale.value
            do {
                try refreshGuard.rejected(proven: proven.withLock { $0 == stale.value }, now: now)
            } catch {
                events.emit(.tokenRefreshFailed(reason: .authenticationFailed))
                throw error
            }
        }
        return try await fetch(replacing: stale.value)
    }

    /// Records that a request succeeded with `token`: it is no part of a refresh loop.
    public nonisolated func confirm(_ token: AccessToken) {
        proven.withLock { if $0 != token.value { $0 = token.value } }
    }

    /// Forgets the current token; the next call gets a different one.
    public func invalidate() {
        if let current { dropped = current.value }
        current = nil
    }

    private func fetch(replacing stale: String?) async throws -> AccessToken {
        if let inFlight {
            joiners += 1
            defer { joiners -= 1 }
            let token = try await cancellableValue(of: inFlight)
            // A fetch that began before `stale` was known to be stale (the first load, say) can
            // bring back the very token being replaced: refresh it properly instead.
            if let stale, token.value == stale { return try await refresh(replacing: token) }
            return token
        }
        let refresh = SharedRefresh(provider: provider, credentials: credentials, lockTimeout: options.lockTimeout, events: events)
        // The task runs on this actor and settles the state before it delivers its result, so a
        // waiter that resumes first already finds `current` set and nothing in flight, and a
        // caller that gives up (cancelled, its deadline passed) leaves it to finish for the others.
        let task = Task {
            do {
                let token = try await refresh.run(replacing: stale)
                current = token
                dropped = nil
                inFlight = nil
                return token
            } catch {
                current = nil
                inFlight = nil
                refreshGuard.fetchFailed(error, now: clock.now)
                events.emit(.tokenRefreshFailed(reason: OutcomeClassifier().classify(error)))
                throw error
            }
        }
        inFlight = task
        return try await cancellableValue(of: task)
    }
}

/// One fetch through the shared store: take what another process stored, or refresh under the
/// store's lock and store the result before anyone is told.
struct SharedRefresh: Sendable {
    let provider: any TokenProvider
    let credentials: any CredentialStore
    let lockTimeout: Duration
    let events: ResilienceEventSink

    /// A token other than `stale` (`nil`: any token).
    func run(replacing stale: String?) async throws -> AccessToken {
        if let stored = try await load(), stored.token.value != stale {
            return adopt(stored)
        }
        return try await credentials.withRefreshLock(timeout: lockTimeout.atLeast(OptionLimits.timeout)) {
            // Whoever held the lock before may have just stored what we need.
            let stored = try await load()
            if let stored, stored.token.value != stale { return adopt(stored) }
            if stale != nil { events.emit(.tokenRefreshStarted) }
            let token: AccessToken
            do {
                token = try await provider.fetchToken(refreshToken: stored?.token.refreshToken)
            } catch AuthenticationError.refused(let refusal) where refusal.mayBeARace {
                // Another process may have rotated the refresh token a moment ago, outside this
                // store's lock: believe the store once before believing the refusal.
                if let again = try await load(), again.revision != stored?.revision, again.token.value != stale {
                    return adopt(again)
                }
                throw AuthenticationError.refused(refusal)
            }
            // Stored before any waiter is released: a rotated refresh token is never lost to
            // a process that was not told. (Superseded only if a writer ignored the lock: the
            // token just fetched is valid either way, and the store keeps the other writer's.)
            _ = try await credentials.replace(expected: stored?.revision, with: token, owner: provider.credentialOwner)
            return token
        }
    }

    private func load() async throws -> StoredCredential? {
        guard let stored = try await credentials.load() else { return nil }
        guard stored.owner == provider.credentialOwner else {
            throw CredentialStoreError(
                description: "the credential store holds a credential of \(stored.owner), not of \(provider.credentialOwner); refusing to use or replace it")
        }
        return stored
    }

    private func adopt(_ stored: StoredCredential) -> AccessToken {
        events.emit(.tokenAdopted(revision: stored.revision))
        return stored.token
    }
}
