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
    /// The clock the guards and deadlines are measured on.
    public nonisolated let clock: any ResilienceClock
    private let events: ResilienceEventSink
    /// The token in hand and the guard's hold, behind a lock so that ``cachedToken`` and
    /// ``usableToken()`` read them without a hop.
    private nonisolated let held = Lock<Held>(Held())
    private struct Held {
        var token: TokenInHand?
        /// The last token a request succeeded with (``confirm(_:)``): outside the actor so that
        /// confirming costs a lock, not a hop, and beside `token` so that a request can see in
        /// the same look that its token needs no confirming.
        var proven: String?
        var hold: (until: ResilienceInstant, error: AuthenticationError)?
    }
    private var current: AccessToken? {
        get { held.withLock { $0.token?.token } }
        set {
            let inHand = newValue.map(TokenInHand.init)
            held.withLock { $0.token = inHand }
        }
    }
    /// The value of a token dropped by ``invalidate()``: the next fetch must not return it.
    private var dropped: String?
    private var inFlight: Task<AccessToken, any Error>?
    /// Callers waiting on a fetch someone else started (tests watch it to order a race).
    private(set) var joiners = 0
    private var refreshGuard: RefreshGuard {
        didSet {
            let hold = refreshGuard.hold
            held.withLock { $0.hold = hold }
        }
    }
    /// A token issued but not yet written to ``credentials`` (the write failed): the one whose
    /// refresh token the next refresh presents, and what the background write keeps retrying.
    private var unsaved: UnsavedCredential?
    private var saving: Task<Void, Never>?

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

    /// The token in hand, without waiting; `nil` when a call must fetch one (``token()``).
    public nonisolated var cachedToken: AccessToken? { held.withLock { $0.token?.token } }

    /// The token in hand if ``token()`` would return it without waiting; `nil` when a call must
    /// go through ``token()``. Costs a lock, not an actor hop: every request asks.
    ///
    /// - Throws: the guard's error while a refresh loop or a refusal holds, as ``token()`` does.
    public nonisolated func usableToken() throws -> AccessToken? {
        try usableAuthorization()?.inHand.token
    }

    /// ``usableToken()`` with its `Authorization` value, and whether a request has already
    /// succeeded with it (then ``confirm(_:)`` has nothing to do).
    nonisolated func usableAuthorization() throws -> (inHand: TokenInHand, confirmed: Bool)? {
        let (inHand, confirmed, hold) = held.withLock { held in
            (held.token, held.token != nil && held.token?.token.value == held.proven, held.hold)
        }
        if let hold, clock.now < hold.until { throw hold.error }
        return inHand.map { ($0, confirmed) }
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
                try refreshGuard.rejected(proven: held.withLock { $0.proven == stale.value }, now: now)
            } catch {
                events.emit(.tokenRefreshFailed(reason: .authenticationFailed))
                throw error
            }
        }
        return try await fetch(replacing: stale.value)
    }

    /// Records that a request succeeded with `token`: it is no part of a refresh loop.
    public nonisolated func confirm(_ token: AccessToken) {
        held.withLock { if $0.proven != token.value { $0.proven = token.value } }
    }

    /// Whether a token issued by the token endpoint is held only in memory because the shared
    /// ``CredentialStore`` refused the write (full disk, read-only directory, database down). It
    /// is written again with backoff; a process that exits meanwhile should say so, since the
    /// store still holds a refresh token that Refresh Token Rotation has retired.
    public var hasUnstoredCredential: Bool { unsaved != nil }

    /// Writes a token held only in memory to the store now.
    ///
    /// - Returns: `true` if nothing is left unstored.
    /// - Throws: the store's error if the write failed again.
    @discardableResult
    public func storeUnstoredCredential() async throws -> Bool {
        guard let pending = unsaved else { return true }
        try await save(pending)
        return unsaved == nil
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
        let refresh = SharedRefresh(provider: provider, credentials: credentials, lockTimeout: options.lockTimeout, events: events, unsaved: unsaved)
        // The task runs on this actor and settles the state before it delivers its result, so a
        // waiter that resumes first already finds `current` set and nothing in flight, and a
        // caller that gives up (cancelled, its deadline passed) leaves it to finish for the others.
        let task = Task {
            do {
                let token = try await refresh.run(replacing: stale)
                current = token
                dropped = nil
                inFlight = nil
                unsaved = nil
                return token
            } catch let failure as UnsavedCredential {
                // Salesforce issued a token the store would not take: use it, keep it, retry the write.
                current = failure.token
                dropped = nil
                inFlight = nil
                unsaved = failure
                events.emit(.credentialNotStored(reason: failure.reason))
                keepSaving()
                return failure.token
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

extension TokenStore {
    /// Writes `pending` to the store (compare-and-swap on the revision it was fetched against).
    /// Superseded means another holder stored a newer credential meanwhile: ours is no longer the
    /// one to keep.
    private func save(_ pending: UnsavedCredential) async throws {
        let result = try await credentials.replace(expected: pending.expected, with: pending.token, owner: provider.credentialOwner)
        guard unsaved?.token == pending.token else {
            // A newer token was issued meanwhile: it replaces what was just written.
            if case .stored(let stored) = result { unsaved?.expected = stored.revision }
            return
        }
        unsaved = nil
        if case .stored(let stored) = result { events.emit(.credentialStored(revision: stored.revision)) }
    }

    /// Retries the write of the unstored token with backoff (1 s doubling to 30 s) until it is
    /// stored or superseded, up to 20 times (about eight minutes); after that every refresh and
    /// ``storeUnstoredCredential()`` try again.
    private func keepSaving() {
        guard saving == nil else { return }
        saving = Task {
            var delay = Duration.seconds(1)
            var attempts = 0
            while unsaved != nil, attempts < 20 {
                attempts += 1
                do {
                    try await clock.sleep(for: delay)
                } catch {
                    break
                }
                // The newest unstored token, not the one there was before the wait.
                guard let pending = unsaved else { break }
                do {
                    try await save(pending)
                } catch {
                    delay = min(delay * 2, .seconds(30))
                }
            }
            saving = nil
        }
    }
}

/// A token the token endpoint issued that the credential store did not take.
struct UnsavedCredential: Error, Sendable {
    /// The token, with its (possibly rotated) refresh token.
    let token: AccessToken
    /// The store revision it replaces (`nil`: the store was empty).
    var expected: UInt64?
    /// The store's error, for the event and for messages.
    let reason: String
}

/// One fetch through the shared store: take what another process stored, or refresh under the
/// store's lock and store the result before anyone is told.
struct SharedRefresh: Sendable {
    let provider: any TokenProvider
    let credentials: any CredentialStore
    let lockTimeout: Duration
    let events: ResilienceEventSink
    /// A token issued earlier that the store did not take: its refresh token is the live one.
    var unsaved: UnsavedCredential?

    /// A token other than `stale` (`nil`: any token).
    ///
    /// - Throws: ``UnsavedCredential`` when the token endpoint issued a token that the store
    ///   would not take: the caller keeps and uses it, and never presents the store's retired
    ///   refresh token.
    func run(replacing stale: String?) async throws -> AccessToken {
        if let unsaved {
            // The store's refresh token may be retired: write ours first, or refresh with ours.
            do {
                _ = try await credentials.replace(expected: unsaved.expected, with: unsaved.token, owner: provider.credentialOwner)
            } catch {
                let token = try await provider.fetchToken(refreshToken: unsaved.token.refreshToken)
                return try await store(token, replacing: unsaved.expected)
            }
        }
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
            return try await store(token, replacing: stored?.revision)
        }
    }

    /// Stores a token just issued; if the store fails, the token is thrown as ``UnsavedCredential``
    /// so that it is kept, not lost with its rotated refresh token.
    private func store(_ token: AccessToken, replacing revision: UInt64?) async throws -> AccessToken {
        do {
            _ = try await credentials.replace(expected: revision, with: token, owner: provider.credentialOwner)
            return token
        } catch {
            throw UnsavedCredential(token: token, expected: revision, reason: "\(error)")
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

/// A token in hand with its `Authorization` value, built once rather than on every request, in
/// one reference: a request copies a pointer, not the token's six fields.
final class TokenInHand: Sendable {
    /// The token.
    let token: AccessToken
    /// `Bearer <value>`.
    let authorization: String

    init(_ token: AccessToken) {
        self.token = token
        self.authorization = AccessToken.authorization(for: token.value)
    }
}
