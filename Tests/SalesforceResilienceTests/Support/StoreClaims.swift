import SalesforceResilience

extension OutboxStore {
    /// Claims exactly `keys` (the other pending entries are given back at once), for tests that
    /// settle entries on a store directly rather than through an ``Outbox``.
    func claims(for keys: [String]) async throws -> [OutboxClaim] {
        let batch = try await claim(limit: 1_000_000, lease: .seconds(3_600), groupsTogether: false)
        let wanted = Set(keys)
        try await release(batch.claims.filter { !wanted.contains($0.key) })
        return batch.claims.filter { wanted.contains($0.key) }
    }
}
