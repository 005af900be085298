import Foundation
import SalesforceResilience
import SalesforceResilienceTesting
import Testing

/// The rules every shipped ``ResultCache`` keeps: a maximum age and a least-recently-used bound.
@Suite struct ResultCacheTests {
    enum Kind: String, CaseIterable, Sendable { case memory, file }

    @Test(arguments: Kind.allCases) func oldEntriesExpireAndTheLeastRecentlyUsedAreEvicted(_ kind: Kind) async throws {
        let clock = VirtualClock(mode: .autoAdvance)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("result-cache-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let cache: any ResultCache
        let count: () async -> Int
        switch kind {
        case .memory:
            let memory = InMemoryResultCache(maxAge: .seconds(60), maxEntries: 2, clock: clock)
            (cache, count) = (memory, { await memory.count })
        case .file:
            let file = try FileResultCache(directory: directory, maxAge: .seconds(60), maxEntries: 2, clock: clock)
            (cache, count) = (file, { await file.count })
        }
        /// Entry files on disk, for the file cache: evicted and expired entries are deleted.
        func files() throws -> Int { try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".sfcache") }.count }

        let now = clock.wallClockNow
        await cache.store(CachedResult(data: Data("a".utf8), storedAt: now), for: "a")
        await cache.store(CachedResult(data: Data("b".utf8), storedAt: now), for: "b")
        _ = await cache.value(for: "a")
        await cache.store(CachedResult(data: Data("c".utf8), storedAt: now), for: "c")
        #expect(await cache.value(for: "b") == nil)  // least recently used
        if kind == .file { #expect(try files() == 2) }
        #expect(await cache.value(for: "a") != nil)
        try await clock.sleep(until: clock.now + .seconds(61))
        #expect(await cache.value(for: "a") == nil)  // too old
        #expect(await count() == 1)
        if kind == .file { #expect(try files() == 1) }
    }
}
