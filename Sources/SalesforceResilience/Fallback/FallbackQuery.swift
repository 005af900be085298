import Foundation

/// Records and where they came from.
public struct FallbackResult<Record: Sendable>: Sendable {
    /// Whether the records are live or cached.
    public enum Freshness: Sendable, Hashable {
        /// Fetched just now.
        case fresh
        /// From the cache, `age` old, served because of `reason`.
        case stale(age: Duration, reason: FailureCategory)
    }

    /// The records.
    public var records: [Record]
    /// Their freshness.
    public var freshness: Freshness

    /// Whether the records came from the cache.
    public var isStale: Bool { freshness != .fresh }
}

extension SalesforceClient {
    /// Runs a query and caches its result; when Salesforce is unavailable, returns the cached
    /// result marked stale with its age instead.
    ///
    /// Falls back only for failures whose category ``FailureCategory/allowsFallback``:
    /// transient errors after retries, an open breaker, an exhausted API allowance, and the
    /// `fallback` mode (which serves the cache without calling). Code bugs (`MALFORMED_QUERY`,
    /// `INVALID_FIELD`) and auth failures are thrown, cache or not. With nothing cached, the
    /// original error is thrown.
    ///
    /// - Parameter key: the cache key; default the query text.
    public func queryWithFallback<Record: Codable & Sendable>(
        _ soql: SOQL, as type: Record.Type = Record.self, cache: any ResultCache, key: String? = nil, priority: RequestContext.Priority = .normal
    ) async throws -> FallbackResult<Record> {
        let key = key ?? soql.text
        do {
            if mode == .fallback { throw AdmissionError(reason: .mode(.fallback), operation: "query") }
            let records = try await query(soql, as: type, priority: priority).collect()
            if let data = try? JSONEncoder().encode(records) {
                await cache.store(CachedResult(data: data, storedAt: clock.wallClockNow), for: key)
            }
            return FallbackResult(records: records, freshness: .fresh)
        } catch {
            let category = configuration.classifier.classify(error)
            guard category.allowsFallback, let cached = await cache.value(for: key),
                  let records = try? JSONDecoder().decode([Record].self, from: cached.data)
            else { throw error }
            let age = Duration.milliseconds(Int64(max(0, clock.wallClockNow.timeIntervalSince(cached.storedAt)) * 1000))
            events.emit(.fallbackServed(key: key, age: age, reason: category))
            return FallbackResult(records: records, freshness: .stale(age: age, reason: category))
        }
    }
}
