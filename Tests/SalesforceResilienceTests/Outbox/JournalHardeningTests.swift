import Foundation
@testable import SalesforceResilience
import Testing

/// The journal under damage and misuse: changed bytes, a second writer, failed writes, crafted
/// counts, and who may read it.
@Suite struct JournalHardeningTests {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("hardening-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func path(_ name: String = "outbox.jsonl") -> String { directory.appendingPathComponent(name).path }

    func entry(_ n: Int, attempts: Int = 0) -> OutboxEntry {
        OutboxEntry(sobject: "Payment__c", externalIdField: "Reference__c", externalId: "PAY-\(n)", fields: ["Amount__c": .number(Double(n))],
                    enqueuedAt: Date(timeIntervalSince1970: Double(n)), attempts: attempts)
    }

    @Test func oneChangedByteInsideALineIsDetectedNotReadAsAnotherChange() async throws {
        let journal = path()
        let store = try FileJournalOutboxStore(path: journal)
        try await store.enqueue([entry(1), entry(2)])
        try await store.acknowledge(try await store.claims(for: [entry(1).key]))
        await store.close()
        // PAY-1 → PAY-2 inside the acknowledge line: without a checksum, PAY-2 would vanish.
        var text = try String(contentsOfFile: journal, encoding: .utf8)
        let line = try #require(text.split(separator: "\n").first { $0.contains("acknowledge") })
        text = text.replacingOccurrences(of: String(line), with: line.replacingOccurrences(of: "PAY-1", with: "PAY-2"))
        try text.write(toFile: journal, atomically: true, encoding: .utf8)
        let error = #expect(throws: FileJournalOutboxStore.JournalError.self) { try FileJournalOutboxStore(path: journal) }
        #expect(error?.description.contains("line 3 is corrupt") == true)
    }

    @Test func aSecondStoreOnTheSameJournalIsRefusedUntilTheFirstCloses() async throws {
        let journal = path()
        let first = try FileJournalOutboxStore(path: journal)
        try await first.enqueue([entry(1)])
        let error = #expect(throws: FileJournalOutboxStore.JournalError.self) { try FileJournalOutboxStore(path: journal) }
        #expect(error?.description.contains("is open in another store") == true)
        await first.close()
        await #expect(throws: FileJournalOutboxStore.JournalError.self) { try await first.enqueue([entry(2)]) }
        let second = try FileJournalOutboxStore(path: journal)
        #expect(await second.pending(limit: 10).map(\.externalId) == ["PAY-1"])
    }

    /// Fails writes after `budget` bytes have gone out, as a full disk does.
    final class FullDisk: Sendable {
        let budget = Lock(Int.max)
        let failFsync = Lock(false)

        var io: JournalIO {
            JournalIO(
                write: { [self] descriptor, bytes in
                    let allowed = budget.withLock { budget in
                        let allowed = min(budget, bytes.count)
                        budget -= allowed
                        return allowed
                    }
                    guard allowed > 0 else {
                        errno = ENOSPC
                        return -1
                    }
                    return JournalIO.posix.write(descriptor, UnsafeRawBufferPointer(rebasing: bytes[..<allowed]))
                },
                fsync: { [self] descriptor in
                    if failFsync.withLock({ $0 }) {
                        errno = EIO
                        return -1
                    }
                    return JournalIO.posix.fsync(descriptor)
                })
        }
    }

    @Test func aWriteThatFailsPartWayIsCutBackSoTheJournalStillReplays() async throws {
        let journal = path()
        let disk = FullDisk()
        let store = try FileJournalOutboxStore(path: journal, io: disk.io)
        try await store.enqueue([entry(1)])
        let size = try FileManager.default.attributesOfItem(atPath: journal)[.size] as? Int
        disk.budget.withLock { $0 = 40 }  // the next line gets 40 bytes out, then the disk is full
        let error = await #expect(throws: FileJournalOutboxStore.JournalError.self) { try await store.enqueue([entry(2)]) }
        #expect(error?.description.contains("No space left on device") == true)
        #expect(try FileManager.default.attributesOfItem(atPath: journal)[.size] as? Int == size, "the partial line stayed")
        disk.budget.withLock { $0 = .max }  // space freed
        try await store.enqueue([entry(3)])
        await store.close()
        #expect(await (try FileJournalOutboxStore(path: journal)).pending(limit: 10).map(\.externalId) == ["PAY-1", "PAY-3"])
    }

    @Test func aFailedFsyncIsCutBackToo() async throws {
        let journal = path()
        let disk = FullDisk()
        let store = try FileJournalOutboxStore(path: journal, io: disk.io)
        try await store.enqueue([entry(1)])
        disk.failFsync.withLock { $0 = true }
        await #expect(throws: FileJournalOutboxStore.JournalError.self) { try await store.acknowledge(try await store.claims(for: [entry(1).key])) }
        disk.failFsync.withLock { $0 = false }
        await store.close()
        #expect(await (try FileJournalOutboxStore(path: journal)).pending(limit: 10).map(\.externalId) == ["PAY-1"],
                "an acknowledgement whose fsync failed was reported as failed, so it must not count")
    }

    @Test func aCraftedAttemptCountSaturatesInsteadOfTrapping() async throws {
        let journal = path()
        var data = JournalFormat.header
        data.append(try JournalFormat.line(.enqueue([StoredEntry(entry(1, attempts: Int.max))])))
        data.append(try JournalFormat.line(.attempt([entry(1).key])))
        try data.write(to: URL(fileURLWithPath: journal))
        let store = try FileJournalOutboxStore(path: journal)
        #expect(await store.pending(limit: 1).first?.attempts == Int.max)
    }

    @Test func aNegativeAttemptCountIsACorruptLine() throws {
        let journal = path()
        var data = JournalFormat.header
        data.append(try JournalFormat.line(.enqueue([StoredEntry(entry(1, attempts: -3))])))
        try data.write(to: URL(fileURLWithPath: journal))
        #expect(throws: FileJournalOutboxStore.JournalError.self) { try FileJournalOutboxStore(path: journal) }
    }

    @Test func theJournalItsDeadLettersAndItsLockAreOwnerOnly() async throws {
        let journal = path()
        // An existing journal from an earlier version, world-readable.
        try JournalFormat.header.write(to: URL(fileURLWithPath: journal))
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: journal)
        let store = try FileJournalOutboxStore(path: journal)
        try await store.enqueue([entry(1)])
        try await store.deadLetter([DeadLetter(entry: entry(1), reason: "X: y", at: Date())])
        for file in [journal, journal + ".deadletter.jsonl", journal + ".lock"] {
            let permissions = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int
            #expect(permissions == 0o600, "\(file): \(String(permissions ?? 0, radix: 8))")
        }
    }
}
