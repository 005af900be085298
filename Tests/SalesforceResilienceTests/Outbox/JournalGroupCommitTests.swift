import Foundation
@testable import SalesforceResilience
import Testing

/// Group commit: concurrent enqueues share an `fsync`, none returns before its line is on disk,
/// and an `fsync` that fails fails every enqueue it covered and keeps none of them.
@Suite struct JournalGroupCommitTests {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("group-commit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func entry(_ n: Int) -> OutboxEntry {
        OutboxEntry(sobject: "Payment__c", externalIdField: "Reference__c", externalId: "PAY-\(n)", fields: ["Amount__c": .number(Double(n))],
                    enqueuedAt: Date(timeIntervalSince1970: Double(n)))
    }

    /// Counts writes and fsyncs in order, and can fail the next fsync.
    final class Disk: Sendable {
        /// Each event: a write of the line for `PAY-n` (its number) or an fsync (0).
        let events = Lock<[Int]>([])
        let failFsync = Lock(false)

        var io: JournalIO {
            JournalIO(
                write: { [self] descriptor, bytes in
                    let text = String(decoding: bytes, as: UTF8.self)
                    let numbers = text.split(separator: "PAY-").dropFirst().compactMap { Int($0.prefix { $0.isNumber }) }
                    events.withLock { $0.append(contentsOf: numbers) }
                    return JournalIO.posix.write(descriptor, bytes)
                },
                fsync: { [self] descriptor in
                    events.withLock { $0.append(0) }
                    if failFsync.withLock({ $0 }) {
                        errno = EIO
                        return -1
                    }
                    return JournalIO.posix.fsync(descriptor)
                })
        }

        var fsyncs: Int { events.withLock { $0.filter { $0 == 0 }.count } }
    }

    @Test func concurrentEnqueuesShareFsyncsAndEachReturnsOnlyOnceItsLineIsOnDisk() async throws {
        let path = directory.appendingPathComponent("outbox.jsonl").path
        let disk = Disk()
        let store = try FileJournalOutboxStore(path: path, io: disk.io)
        let before = disk.fsyncs
        // 16 producers × 25 single enqueues. Each producer notes what the disk had seen when its
        // call returned: an fsync must come after its line.
        let returned = Lock<[(number: Int, eventsSeen: Int)]>([])
        try await withThrowingTaskGroup(of: Void.self) { group in
            for producer in 0..<16 {
                group.addTask {
                    for n in 0..<25 {
                        let number = producer * 25 + n + 1
                        try await store.enqueue([entry(number)])
                        let seen = disk.events.withLock { $0.count }
                        returned.withLock { $0.append((number, seen)) }
                    }
                }
            }
            try await group.waitForAll()
        }
        let events = disk.events.withLock { $0 }
        for call in returned.withLock({ $0 }) {
            let written = try #require(events.firstIndex(of: call.number))
            #expect(events[written..<call.eventsSeen].contains(0), "PAY-\(call.number) returned before an fsync covered it")
        }
        let fsyncs = disk.fsyncs - before
        #expect(fsyncs < 400, "400 enqueues, \(fsyncs) fsyncs: none shared")
        await store.close()
        let reopened = try FileJournalOutboxStore(path: path)
        #expect(await reopened.pending(limit: 1_000).count == 400)
    }

    @Test func aFailedSharedFsyncFailsEveryEnqueueItCoveredAndKeepsNone() async throws {
        let path = directory.appendingPathComponent("outbox.jsonl").path
        let disk = Disk()
        let store = try FileJournalOutboxStore(path: path, io: disk.io)
        try await store.enqueue([entry(1)])
        disk.failFsync.withLock { $0 = true }
        let outcomes = await withTaskGroup(of: Bool.self, returning: [Bool].self) { group in
            for n in 2...9 { group.addTask { (try? await store.enqueue([entry(n)])) != nil } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.allSatisfy { !$0 }, "an enqueue reported success although no fsync succeeded")
        #expect(await store.pending(limit: 100).map(\.externalId) == ["PAY-1"], "the failed enqueues were forgotten in memory too")
        disk.failFsync.withLock { $0 = false }
        try await store.enqueue([entry(10)])
        await store.close()
        let reopened = try FileJournalOutboxStore(path: path)
        #expect(await reopened.pending(limit: 100).map(\.externalId) == ["PAY-1", "PAY-10"])
    }
}
