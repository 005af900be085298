import Foundation

/// A credential as a ``CredentialStore`` holds it: the latest token (with its instance URL and
/// the refresh token to present next), whose it is, and a revision that changes on every write.
public struct StoredCredential: Sendable, Hashable {
    /// The access token, its instance URL and the current refresh token.
    public var token: AccessToken
    /// Which grant and app the credential belongs to (``TokenProvider/credentialOwner``): a
    /// store is never used for another's.
    public var owner: String
    /// Increases by one on every write; compare-and-swap compares it.
    public var revision: UInt64
    /// When it was written.
    public var storedAt: Date

    /// Creates a stored credential.
    public init(token: AccessToken, owner: String, revision: UInt64, storedAt: Date = Date()) {
        self.token = token
        self.owner = owner
        self.revision = revision
        self.storedAt = storedAt
    }
}

/// What a compare-and-swap did.
public enum CredentialReplacement: Sendable, Hashable {
    /// The new credential is stored, with this revision.
    case stored(StoredCredential)
    /// Another writer got there first; this is what the store holds now (`nil`: nothing).
    case superseded(StoredCredential?)
}

/// Where the token that several processes (or machines) share lives, so that one refresh
/// serves them all and a rotated refresh token is never presented twice.
///
/// Three operations: read; replace only if nobody wrote since a given revision
/// (compare-and-swap); and a refresh lock that one holder at a time, in any process sharing the
/// store, holds while it asks the token endpoint. ``InMemoryCredentialStore`` is one process's;
/// ``FileCredentialStore`` is every process's on one machine; a database store (a row updated
/// with `WHERE revision = $expected`, an advisory lock) serves many machines.
public protocol CredentialStore: Sendable {
    /// The stored credential, or `nil` if none was stored yet.
    func load() async throws -> StoredCredential?

    /// Stores `token` for `owner` if the stored revision is still `expected` (`nil`: the store
    /// is still empty); otherwise changes nothing and says what is stored now.
    func replace(expected: UInt64?, with token: AccessToken, owner: String) async throws -> CredentialReplacement

    /// Runs `body` while holding the store's refresh lock, waiting up to `timeout` for another
    /// holder (in this process or another) to finish. A holder that dies releases it.
    ///
    /// - Throws: ``CredentialStoreError`` if the lock cannot be had within `timeout`.
    func withRefreshLock<T: Sendable>(timeout: Duration, _ body: @Sendable () async throws -> T) async throws -> T
}

/// A credential store that cannot be used.
public struct CredentialStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, naming the store.
    public var description: String
    /// Whether trying again later may succeed (the lock was busy, a read failed).
    public var isTransient: Bool

    /// Creates an error.
    public init(description: String, isTransient: Bool = false) {
        self.description = description
        self.isTransient = isTransient
    }
}

/// One process's credential store: today's behaviour, and what tests share between clients.
public actor InMemoryCredentialStore: CredentialStore {
    private var stored: StoredCredential?
    private var locked = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    /// Creates an empty store.
    public init() {}

    /// Creates a store holding `token` for `owner` (a provider's
    /// ``TokenProvider/credentialOwner``), at revision 1.
    public init(token: AccessToken, owner: String) {
        stored = StoredCredential(token: token, owner: owner, revision: 1)
    }

    /// The stored credential.
    public func load() -> StoredCredential? { stored }

    /// Compare-and-swap on the revision.
    public func replace(expected: UInt64?, with token: AccessToken, owner: String) -> CredentialReplacement {
        guard stored?.revision == expected else { return .superseded(stored) }
        let next = StoredCredential(token: token, owner: owner, revision: (expected ?? 0) &+ 1)
        stored = next
        return .stored(next)
    }

    /// Runs `body` holding the lock; waiters are served in order. (The holder is in this
    /// process and bounded by its own timeouts, so `timeout` is not needed here.)
    public func withRefreshLock<T: Sendable>(timeout: Duration, _ body: @Sendable () async throws -> T) async throws -> T {
        if locked {
            await withCheckedContinuation { waiters.append($0) }
        } else {
            locked = true
        }
        defer {
            if waiters.isEmpty { locked = false } else { waiters.removeFirst().resume() }
        }
        return try await body()
    }
}
