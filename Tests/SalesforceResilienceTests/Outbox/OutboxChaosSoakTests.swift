import Foundation
import SalesforceResilience
import SalesforceResilienceTesting
import Testing

/// ``OutboxStoreSoak`` on the two stores of this package, over four seeds: updates while older
/// versions are in flight, two drainers with three batches each, a storm, lost answers, proxy
/// errors and row locks, and each record ends with its last value, once. Settling a claim without
/// its version check, or claiming past another drainer's lease, fails it.
///
/// The time limits only stop a hang: under ThreadSanitizer on two cores the four file-journal
/// seeds took 55 s together.
@Suite struct OutboxChaosSoakTests {
    @Test(.timeLimit(.minutes(3)), arguments: 1...4)
    func inMemory(_ seed: UInt64) async throws {
        let report = try await OutboxStoreSoak(seed: seed).run { clock, drainers in
            let store = InMemoryOutboxStore(clock: clock)
            return Array(repeating: store, count: drainers)
        }
        #expect(report.problems.isEmpty, "\(report)")
        #expect(report.deliveredByDrainer.allSatisfy { $0 > 0 }, "one drainer did all the work: \(report.deliveredByDrainer)")
    }

    @Test(.timeLimit(.minutes(3)), arguments: 1...4)
    func fileJournal(_ seed: UInt64) async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("soak-\(UUID().uuidString).journal").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let report = try await OutboxStoreSoak(seed: seed).run { clock, drainers in
            // Small enough that the journal is compacted while batches are in flight.
            let store = try FileJournalOutboxStore(path: path, compactAfterBytes: 50_000, clock: clock)
            return Array(repeating: store, count: drainers)
        }
        #expect(report.problems.isEmpty, "\(report)")
        #expect(report.deliveredByDrainer.allSatisfy { $0 > 0 }, "one drainer did all the work: \(report.deliveredByDrainer)")
    }

    /// A full disk.
    struct DiskFull: Error {}

    @Test(.timeLimit(.minutes(3))) func aStoreThatFailsAnEnqueueEndsTheSoakWithItsErrorInsteadOfHangingIt() async throws {
        await #expect(throws: DiskFull.self) {
            _ = try await OutboxStoreSoak(seed: 1).run { clock, drainers in
                // The disk fills after 300 enqueues.
                let store = InterceptedOutboxStore.failing(.enqueue, after: 300, with: DiskFull(), InMemoryOutboxStore(clock: clock))
                return Array(repeating: store, count: drainers)
            }
        }
    }
}
