import Foundation

/// A cached query result: the encoded records and when they were fetched.
public struct CachedResult: Sendable, Hashable {
    /// The encoded records.
    public var data: Data
    /// When they were fetched from Salesforce.
    public var storedAt: Date

    /// Creates a cached result.
    public init(data: Data, storedAt: Date) {
        self.data = data
        self.storedAt = storedAt
    }

    /// Whether the result is at most `maxAge` old at `now`.
    func isUsable(at now: Date, maxAge: Duration) -> Bool {
        now.timeIntervalSince(storedAt) <= maxAge.seconds
    }
}

/// Cache keys from least to most recently used, for eviction.
struct RecencyOrder {
    private(set) var keys: [String] = []

    /// Creates an order, least recently used first.
    init(_ keys: [String] = []) { self.keys = keys }

    /// Marks `key` as just used.
    mutating func touch(_ key: String) {
        remove(key)
        keys.append(key)
    }

    /// Forgets `key`.
    mutating func remove(_ key: String) {
        keys.removeAll { $0 == key }
    }

    /// Removes and returns the least recently used keys beyond `limit`.
    mutating func trim(to limit: Int) -> [String] {
        let excess = max(0, keys.count - limit)
        defer { keys.removeFirst(excess) }
        return Array(keys.prefix(excess))
    }
}

/// Where ``SalesforceClient/queryWithFallback(_:as:cache:key:priority:)`` keeps the last good
/// result of each query. ``InMemoryResultCache`` lives and dies with the process;
/// ``FileResultCache`` survives restarts; implement the two methods to share one (Redis, a
/// database) between processes.
public protocol ResultCache: Sendable {
    /// The result stored for `key`, if one is still usable.
    func value(for key: String) async -> CachedResult?
    /// Stores `result` for `key`.
    func store(_ result: CachedResult, for key: String) async
}

/// An in-memory ``ResultCache`` with a maximum age and a size bound (least recently used
/// entries are evicted first).
public actor InMemoryResultCache: ResultCache {
    /// Entries older than this are not served. Default 24 hours: older data is more likely to
    /// mislead than to help.
    public nonisolated let maxAge: Duration
    /// The most entries kept. Default 1,000.
    public nonisolated let maxEntries: Int
    private let clock: any ResilienceClock
    private var entries: [String: CachedResult] = [:]
    private var recency = RecencyOrder()

    /// Creates a cache.
    public init(maxAge: Duration = .seconds(86_400), maxEntries: Int = 1_000, clock: any ResilienceClock = SystemClock()) {
        self.maxAge = maxAge
        self.maxEntries = max(1, maxEntries)
        self.clock = clock
    }

    /// See ``ResultCache/value(for:)``.
    public func value(for key: String) -> CachedResult? {
        guard let entry = entries[key] else { return nil }
        guard entry.isUsable(at: clock.wallClockNow, maxAge: maxAge) else {
            entries[key] = nil
            recency.remove(key)
            return nil
        }
        recency.touch(key)
        return entry
    }

    /// See ``ResultCache/store(_:for:)``.
    public func store(_ result: CachedResult, for key: String) {
        entries[key] = result
        recency.touch(key)
        for evicted in recency.trim(to: maxEntries) { entries[evicted] = nil }
    }

    /// The number of entries.
    public var count: Int { entries.count }
}
