import Foundation
import SalesforceResilience
import SalesforceResilienceTesting
import Testing

@Suite struct FileResultCacheTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("result-cache-\(UUID().uuidString)")
    let clock = VirtualClock(mode: .autoAdvance)

    func open(maxAge: Duration = .seconds(86_400), maxEntries: Int = 1_000) throws -> FileResultCache {
        try FileResultCache(directory: directory, maxAge: maxAge, maxEntries: maxEntries, clock: clock)
    }

    func entryFiles() throws -> [URL] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".sfcache") }.map { directory.appendingPathComponent($0) }
    }

    @Test func entriesSurviveARestart() async throws {
        let storedAt = clock.wallClockNow.addingTimeInterval(-12.345)
        let first = try open()
        await first.store(CachedResult(data: Data(#"[{"Name":"Acme"}]"#.utf8), storedAt: storedAt), for: "SELECT Name FROM Account")
        await first.store(CachedResult(data: Data("[]".utf8), storedAt: storedAt), for: "SELECT Id FROM Contact")

        let reopened = try open()
        #expect(await reopened.count == 2)
        let value = await reopened.value(for: "SELECT Name FROM Account")
        #expect(value == CachedResult(data: Data(#"[{"Name":"Acme"}]"#.utf8), storedAt: storedAt))
        #expect(await reopened.value(for: "SELECT Name FROM Lead") == nil)
    }

    @Test func entriesAreReadableByTheOwnerOnly() async throws {
        let cache = try open()
        await cache.store(CachedResult(data: Data("[]".utf8), storedAt: clock.wallClockNow), for: "SELECT Email FROM Contact")
        let file = try #require(try entryFiles().first)
        let permissions = { (path: String) in (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue }
        #expect(try permissions(file.path) == 0o600)
        #expect(try permissions(directory.path) == 0o700)
    }

    @Test func aLongKeyGetsAShortFileName() async throws {
        let cache = try open()
        let key = "SELECT Id FROM Account WHERE Name IN (" + String(repeating: "'a/b\\c', ", count: 5_000) + "'z')"
        await cache.store(CachedResult(data: Data("x".utf8), storedAt: clock.wallClockNow), for: key)
        let files = try entryFiles()
        #expect(files.count == 1 && files[0].lastPathComponent.count < 40)
        #expect(await cache.value(for: key)?.data == Data("x".utf8))
    }

    @Test func aTruncatedEntryIsAMissAndIsDeleted() async throws {
        let cache = try open()
        await cache.store(CachedResult(data: Data("0123456789".utf8), storedAt: clock.wallClockNow), for: "k")
        let file = try #require(try entryFiles().first)
        let contents = try Data(contentsOf: file)
        try contents.dropLast(3).write(to: file)
        #expect(await cache.value(for: "k") == nil)
        #expect(try entryFiles().isEmpty)
        #expect(await cache.count == 0)
    }

    @Test func garbageAndInterruptedWritesAreClearedOnOpenAndOtherFilesLeftAlone() async throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Data("<html>not a cache entry</html>".utf8).write(to: directory.appendingPathComponent("0000000000000001.sfcache"))
        try Data("half".utf8).write(to: directory.appendingPathComponent("0000000000000002.sfcache.tmp"))
        try Data("mine".utf8).write(to: directory.appendingPathComponent("README"))
        try Data("mine too".utf8).write(to: directory.appendingPathComponent("notes.tmp"))
        let cache = try open()
        #expect(await cache.count == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() == ["README", "notes.tmp"])
    }

    @Test func anEntryWhoseHeaderNamesAnotherKeyIsAMiss() async throws {
        let cache = try open()
        await cache.store(CachedResult(data: Data("a".utf8), storedAt: clock.wallClockNow), for: "key-a")
        let file = try #require(try entryFiles().first)
        let text = String(decoding: try Data(contentsOf: file), as: UTF8.self)
        try Data(text.replacingOccurrences(of: "key-a", with: "key-b").utf8).write(to: file)  // as a hash collision would leave it
        #expect(await cache.value(for: "key-a") == nil)
    }

    @Test func reopeningWithASmallerBoundKeepsTheNewest() async throws {
        let now = clock.wallClockNow
        let cache = try open()
        for (offset, key) in ["old", "middle", "new"].enumerated() {
            await cache.store(CachedResult(data: Data(key.utf8), storedAt: now.addingTimeInterval(Double(offset))), for: key)
        }
        let smaller = try open(maxEntries: 1)
        #expect(await smaller.count == 1)
        #expect(await smaller.value(for: "new")?.data == Data("new".utf8))
        #expect(try entryFiles().count == 1)
    }

    @Test func aRestartedClientServesTheLastGoodResultDuringAnOutage() async throws {
        struct Account: Codable, Sendable, Equatable { var Name: String }
        let org = SalesforceSimulator(clock: clock)
        org.seed("Account", records: [["Name": "Acme"]])
        func client(over transport: any HTTPTransport) throws -> SalesforceClient {
            try SalesforceClient(
                configuration: .init(instanceURL: org.options.instanceURL, retryPolicy: RetryPolicy(maxAttempts: 2)), transport: transport,
                tokenProvider: org.clientCredentialsProvider(), clock: clock)
        }
        let before = try client(over: org)
        #expect(try await before.queryWithFallback("SELECT Name FROM Account", as: Account.self, cache: open()).freshness == .fresh)

        // The process restarts into an outage: a new client and a new cache over the same directory.
        let storm = ChaosTransport(wrapping: org, clock: clock, seed: 1, faults: [.serviceUnavailable(from: .zero, for: .seconds(3_600))])
        let after = try client(over: storm)
        let result = try await after.queryWithFallback("SELECT Name FROM Account", as: Account.self, cache: open())
        #expect(result.records == [Account(Name: "Acme")])
        #expect(result.isStale)
    }

    @Test func aDirectoryThatCannotBeCreatedIsATypedError() throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appendingPathComponent("plain-file")
        try Data().write(to: file)
        #expect(throws: FileResultCache.DirectoryError.self) {
            try FileResultCache(directory: file.appendingPathComponent("cache"), clock: clock)
        }
    }
}
