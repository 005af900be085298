import Foundation

/// One change to an outbox: one journal line, so each change is atomic on disk.
enum OutboxChange {
    case enqueue([StoredEntry])
    case acknowledge([String])
    case attempt([String])
    case deadLetter([String])
    /// Labels of the journal itself (which org and job it belongs to), merged into earlier ones.
    case metadata([String: String])
}

/// A pending entry's identity, compact: its (sObject, external id field) pair as an index into
/// ``OutboxState/types``, and its external id (inline when short, as most are).
struct EntryKey: Hashable, Sendable {
    var type: Int32
    var externalId: String
}

/// Pending entries in enqueue order: a slot per enqueue of a new key, emptied when the entry
/// leaves, so a key acknowledged and enqueued again takes a new place at the end. Claims'
/// leases live here too, in memory only: a process that restarts holds no claims.
struct OutboxState: Sendable {
    /// Who holds a claimed key, and until when.
    struct Lease: Sendable {
        var holder: String
        var until: ResilienceInstant
    }

    /// The (sObject, external id field) pairs of the entries, with the prefix of their keys.
    private var types: [(sobject: String, field: String, prefix: String)] = []
    /// The queue: `slots[i]` is position `base + i`; `nil` where an entry has left.
    private var slots: [StoredEntry?] = []
    private var base = 0
    /// The first slot that may hold an entry.
    private var head = 0
    /// Each pending entry's position.
    private var positions: [EntryKey: Int] = [:]
    /// Claimed keys: their holder and when their lease ends.
    var leases: [String: Lease] = [:]
    /// The last version given to an enqueued entry.
    var lastVersion: Int64 = 0
    /// Holder names are this prefix and a count, so no two claims share one.
    let holderPrefix = String(UUID().uuidString.prefix(8))
    var claims = 0

    /// How many entries are pending.
    var count: Int { positions.count }

    /// Makes room for `count` entries.
    mutating func reserveCapacity(_ count: Int) {
        positions.reserveCapacity(count)
        slots.reserveCapacity(count)
    }

    private mutating func type(_ sobject: String, _ field: String) -> Int32 {
        if let index = types.firstIndex(where: { $0.sobject == sobject && $0.field == field }) { return Int32(index) }
        types.append((sobject, field, "\(sobject)/\(field)/"))
        return Int32(types.count - 1)
    }

    /// The compact key of an ``OutboxEntry/key``, if an entry of its type was ever enqueued.
    private func entryKey(_ key: String) -> EntryKey? {
        for (index, type) in types.enumerated() where key.hasPrefix(type.prefix) {
            return EntryKey(type: Int32(index), externalId: String(key.dropFirst(type.prefix.count)))
        }
        return nil
    }

    private func position(of key: String) -> Int? { entryKey(key).flatMap { positions[$0] } }

    /// The pending entry with `key`.
    func entry(forKey key: String) -> StoredEntry? { position(of: key).flatMap { slots[$0 - base] } }

    mutating func apply(_ line: OutboxChange) {
        switch line {
        case .enqueue(let new):
            for var entry in new {
                lastVersion += 1
                let key = EntryKey(type: type(entry.sobject, entry.externalIdField), externalId: entry.externalId)
                if let position = positions[key] {
                    let version = lastVersion
                    if var existing = slots[position - base] {
                        existing.fields = entry.fields
                        existing.attempts = max(existing.attempts, entry.attempts)
                        existing.version = version
                        slots[position - base] = existing
                    }
                } else {
                    entry.version = lastVersion
                    positions[key] = base + slots.count
                    slots.append(entry)
                }
            }
        case .acknowledge(let keys), .deadLetter(let keys):
            for key in keys {
                leases[key] = nil
                guard let entryKey = entryKey(key), let position = positions.removeValue(forKey: entryKey) else { continue }
                slots[position - base] = nil
            }
        case .attempt(let keys):
            // Saturating: a count read from a file must not be able to trap the process.
            for key in keys {
                leases[key] = nil
                guard let index = position(of: key).map({ $0 - base }), let attempts = slots[index]?.attempts else { continue }
                slots[index]?.attempts = attempts == .max ? .max : attempts + 1
            }
        case .metadata:
            return
        }
        while head < slots.count, slots[head] == nil { head += 1 }
        if head > 4_096 && head * 2 > slots.count {
            slots.removeFirst(head)
            base += head
            head = 0
        }
    }

    /// Gives the pending entry with `key` the version `version` (a compaction keeps versions).
    mutating func setVersion(_ version: Int64, forKey key: String) {
        guard let position = position(of: key) else { return }
        slots[position - base]?.version = version
    }

    /// Claims up to `limit` entries whose lease is free or has ended, oldest first, until `until`.
    mutating func claim(limit: Int, now: ResilienceInstant, until: ResilienceInstant, groupsTogether: Bool) -> OutboxClaimBatch {
        leases = leases.filter { $0.value.until > now }
        var heldGroups: Set<String> = []
        if groupsTogether {
            for key in leases.keys { if let group = entry(forKey: key)?.group { heldGroups.insert(group) } }
        }
        var claimed: [OutboxEntry] = []
        var index = head
        while claimed.count < limit, index < slots.count {
            defer { index += 1 }
            guard let entry = slots[index] else { continue }
            if !leases.isEmpty, leases[entry.key] != nil { continue }
            if groupsTogether, let group = entry.group, heldGroups.contains(group) { continue }
            claimed.append(entry.entry)
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
            if entry(forKey: claim.key)?.version == claim.version { keys.append(claim.key) } else { leases[claim.key] = nil }
        }
        return keys
    }

    /// The letters that may be settled: by their claims' rule, or, without a claim, any pending key.
    mutating func settle(_ letters: [DeadLetter], now: ResilienceInstant) -> [DeadLetter] {
        let claimed = Set(settle(letters.compactMap(\.claim), now: now))
        return letters.filter { letter in
            guard let claim = letter.claim else { return entry(forKey: letter.entry.key) != nil }
            return claimed.contains(claim.key)
        }
    }

    /// The oldest `limit` pending entries, as stored.
    func pendingStored(limit: Int) -> [StoredEntry] {
        var result: [StoredEntry] = []
        var index = head
        while result.count < limit, index < slots.count {
            if let entry = slots[index] { result.append(entry) }
            index += 1
        }
        return result
    }

    /// The oldest `limit` pending entries.
    func pending(limit: Int) -> [OutboxEntry] { pendingStored(limit: limit).map(\.entry) }

    /// How many entries are pending, and when the oldest was enqueued.
    var backlog: (count: Int, oldest: Date?) { (count, head < slots.count ? slots[head]?.enqueuedDate : nil) }
}

