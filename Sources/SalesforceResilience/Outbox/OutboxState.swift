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
    var entries: [String: OutboxEntry] = [:]
    /// Claimed keys and when their lease ends.
    var leases: [String: ResilienceInstant] = [:]
    var sequence: [String: Int] = [:]
    var order: [(key: String, sequence: Int)] = []
    var head = 0
    var nextSequence = 0

    mutating func apply(_ line: OutboxChange) {
        switch line {
        case .enqueue(let new):
            for entry in new {
                if var existing = entries[entry.key] {
                    existing.fields = entry.fields
                    existing.attempts = max(existing.attempts, entry.attempts)
                    entries[entry.key] = existing
                } else {
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
    mutating func claim(limit: Int, now: ResilienceInstant, until: ResilienceInstant, groupsTogether: Bool) -> [OutboxEntry] {
        leases = leases.filter { $0.value > now }
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
        for entry in claimed { leases[entry.key] = until }
        return claimed
    }

    /// Ends the claims on `keys`.
    mutating func release(_ keys: [String]) {
        for key in keys { leases[key] = nil }
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

