import Foundation

/// One change to an outbox: one journal line, so each change is atomic on disk.
enum OutboxChange: Codable {
    case enqueue([OutboxEntry])
    case acknowledge([String])
    case attempt([String])
    case deadLetter([String])
    /// Labels of the journal itself (which org and job it belongs to), merged into earlier ones.
    case metadata([String: String])
}

/// Pending entries in enqueue order. Each order slot carries a sequence number, so a key
/// acknowledged and enqueued again is not seen twice. Claims' leases live here too, in memory
/// only: a process that restarts holds no claims.
struct OutboxState: Sendable {
    /// Who holds a claimed key, and until when.
    struct Lease: Sendable {
        var holder: String
        var until: ResilienceInstant
    }

    var entries: [String: OutboxEntry] = [:]
    /// Claimed keys: their holder and when their lease ends.
    var leases: [String: Lease] = [:]
    var sequence: [String: Int] = [:]
    var order: [(key: String, sequence: Int)] = []
    var head = 0
    var nextSequence = 0
    /// The last version given to an enqueued entry.
    var lastVersion: Int64 = 0
    /// Holder names are this prefix and a count, so no two claims share one.
    let holderPrefix = String(UUID().uuidString.prefix(8))
    var claims = 0

    mutating func apply(_ line: OutboxChange) {
        switch line {
        case .enqueue(let new):
            for var entry in new {
                lastVersion += 1
                if var existing = entries[entry.key] {
                    existing.fields = entry.fields
                    existing.attempts = max(existing.attempts, entry.attempts)
                    existing.version = lastVersion
                    entries[entry.key] = existing
                } else {
                    entry.version = lastVersion
                    entries[entry.key] = entry
                    nextSequence += 1
                    sequence[entry.key] = nextSequence
                    order.append((entry.key, nextSequence))
                }
            }
        case .acknowledge(let keys), .deadLetter(let keys):
            for key in keys {
                entries[key] = nil
                sequence[key] = nil
                leases[key] = nil
            }
        case .attempt(let keys):
            // Saturating: a count read from a file must not be able to trap the process.
            for key in keys {
                leases[key] = nil
                guard let attempts = entries[key]?.attempts else { continue }
                entries[key]?.attempts = attempts == .max ? .max : attempts + 1
            }
        case .metadata:
            return
        }
        while head < order.count, !isLive(order[head]) { head += 1 }
        if head > 4_096 && head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
    }

    func isLive(_ slot: (key: String, sequence: Int)) -> Bool { sequence[slot.key] == slot.sequence }

    /// Claims up to `limit` entries whose lease is free or has ended, oldest first, until `until`.
    mutating func claim(limit: Int, now: ResilienceInstant, until: ResilienceInstant, groupsTogether: Bool) -> OutboxClaimBatch {
        leases = leases.filter { $0.value.until > now }
        var heldGroups: Set<String> = []
        if groupsTogether {
            for key in leases.keys { if let group = entries[key]?.group { heldGroups.insert(group) } }
        }
        var claimed: [OutboxEntry] = []
        var index = head
        while claimed.count < limit, index < order.count {
            defer { index += 1 }
            guard isLive(order[index]), let entry = entries[order[index].key], leases[entry.key] == nil else { continue }
            if groupsTogether, let group = entry.group, heldGroups.contains(group) { continue }
            claimed.append(entry)
        }
        claims += 1
        let holder = "\(holderPrefix)-\(claims)"
        for entry in claimed { leases[entry.key] = Lease(holder: holder, until: until) }
        return OutboxClaimBatch(entries: claimed, holder: holder)
    }

    /// Ends the claims that `claims` still hold.
    mutating func release(_ claims: [OutboxClaim]) {
        for claim in claims where leases[claim.key]?.holder == claim.holder { leases[claim.key] = nil }
    }

    /// Whether `claim`'s holder still holds its key under a live lease.
    func holds(_ claim: OutboxClaim, now: ResilienceInstant) -> Bool {
        guard let lease = leases[claim.key] else { return false }
        return lease.holder == claim.holder && lease.until > now
    }

    /// The keys of `claims` that may be settled (still held, at the claimed version). A held key
    /// enqueued again since its claim is released instead: its newer version stays queued.
    mutating func settle(_ claims: [OutboxClaim], now: ResilienceInstant) -> [String] {
        var keys: [String] = []
        for claim in claims where holds(claim, now: now) {
            if entries[claim.key]?.version == claim.version { keys.append(claim.key) } else { leases[claim.key] = nil }
        }
        return keys
    }

    /// The letters that may be settled: by their claims' rule, or, without a claim, any pending key.
    mutating func settle(_ letters: [DeadLetter], now: ResilienceInstant) -> [DeadLetter] {
        let claimed = Set(settle(letters.compactMap(\.claim), now: now))
        return letters.filter { letter in
            guard let claim = letter.claim else { return entries[letter.entry.key] != nil }
            return claimed.contains(claim.key)
        }
    }

    func pending(limit: Int) -> [OutboxEntry] {
        var result: [OutboxEntry] = []
        var index = head
        while result.count < limit, index < order.count {
            if isLive(order[index]), let entry = entries[order[index].key] { result.append(entry) }
            index += 1
        }
        return result
    }
}

