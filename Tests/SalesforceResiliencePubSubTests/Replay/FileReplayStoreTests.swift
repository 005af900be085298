#if PubSub
import Foundation
@testable import SalesforceResilience
@testable import SalesforceResiliencePubSub
import SalesforceResilienceTesting
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Checkpoints on disk: they survive the store, a file that is not ours is never overwritten, a
/// save that fails leaves the previous checkpoint standing, and concurrent saves all land.
@Suite struct FileReplayStoreTests {
    func path() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("replay-\(UUID().uuidString).store").path
    }

    func checkpoint(_ n: UInt8, events: [String] = []) -> ReplayCheckpoint {
        ReplayCheckpoint(replayID: Data([0, 0, 0, n]), recentEventIDs: events, savedAt: Date(timeIntervalSince1970: 1_765_094_400 + Double(n)))
    }

    @Test func checkpointsSurviveTheStore() async throws {
        let file = path()
        defer { try? FileManager.default.removeItem(atPath: file) }
        let store = FileReplayStore(path: file)
        #expect(try await store.checkpoint(for: "/event/Payment_Requested__e") == nil)
        try await store.save(checkpoint(1, events: ["e-1"]), for: "/event/Payment_Requested__e")
        try await store.save(checkpoint(7), for: "/data/AccountChangeEvent")
        try await store.save(checkpoint(2, events: ["e-1", "e-2"]), for: "/event/Payment_Requested__e")
        let reopened = FileReplayStore(path: file)
        #expect(try await reopened.checkpoint(for: "/event/Payment_Requested__e") == checkpoint(2, events: ["e-1", "e-2"]))
        #expect(try await reopened.checkpoint(for: "/data/AccountChangeEvent") == checkpoint(7))
        let text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(text.hasPrefix(#"{"format":"SalesforceResilience.Replay","version":1}"# + "\n"))
        #expect(!FileManager.default.fileExists(atPath: file + ".tmp"))
        let attributes = try FileManager.default.attributesOfItem(atPath: file)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
    }

    @Test func aFileThatIsNotOursIsRefusedAndLeftAlone() async throws {
        let cases: [(String, Data)] = [
            ("someone else's file", Data("hello\n".utf8)),
            ("a newer format", Data((#"{"format":"SalesforceResilience.Replay","version":2}"# + "\n{}\t00000000\n").utf8)),
            ("a changed byte", Data((#"{"format":"SalesforceResilience.Replay","version":1}"# + "\n{\"a\":1}\t00000000\n").utf8)),
            ("a torn line", Data((#"{"format":"SalesforceResilience.Replay","version":1}"# + "\n{\"a\"").utf8)),
        ]
        for (name, content) in cases {
            let file = path()
            defer { try? FileManager.default.removeItem(atPath: file) }
            try content.write(to: URL(fileURLWithPath: file))
            let store = FileReplayStore(path: file)
            await #expect(throws: ReplayStoreError.self, "\(name)") { try await store.checkpoint(for: "t") }
            await #expect(throws: ReplayStoreError.self, "\(name)") { try await store.save(checkpoint(1), for: "t") }
            #expect(FileManager.default.contents(atPath: file) == content, "\(name) was changed")
        }
    }

    @Test func aSaveThatFailsLeavesThePreviousCheckpoint() async throws {
        let file = path()
        defer { try? FileManager.default.removeItem(atPath: file) }
        try await FileReplayStore(path: file).save(checkpoint(1), for: "t")
        let full = JournalIO(write: { _, _ in errno = ENOSPC; return -1 }, fsync: { _ in 0 })
        let store = FileReplayStore(path: file, io: full)
        await #expect(throws: ReplayStoreError.self) { try await store.save(checkpoint(2), for: "t") }
        #expect(try await store.checkpoint(for: "t") == checkpoint(1), "the store must not report what it did not save")
        #expect(try await FileReplayStore(path: file).checkpoint(for: "t") == checkpoint(1))
        #expect(!FileManager.default.fileExists(atPath: file + ".tmp"))
        let unsynced = FileReplayStore(path: file, io: JournalIO(write: JournalIO.posix.write, fsync: { _ in errno = EIO; return -1 }))
        await #expect(throws: ReplayStoreError.self) { try await unsynced.save(checkpoint(3), for: "t") }
        #expect(try await FileReplayStore(path: file).checkpoint(for: "t") == checkpoint(1))
    }

    @Test func concurrentSavesOfManyTopicsAllLand() async throws {
        let file = path()
        defer { try? FileManager.default.removeItem(atPath: file) }
        let store = FileReplayStore(path: file)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for topic in 0..<16 {
                group.addTask {
                    for n in 1...5 { try await store.save(checkpoint(UInt8(n)), for: "/event/T\(topic)") }
                }
            }
            try await group.waitForAll()
        }
        let reopened = FileReplayStore(path: file)
        for topic in 0..<16 { #expect(try await reopened.checkpoint(for: "/event/T\(topic)") == checkpoint(5)) }
    }

    @Test func checkpointsKeepABoundedRecordOfHandledEvents() {
        var current = checkpoint(0)
        for n in 1...(ReplayCheckpoint.recentLimit + 20) {
            current = current.advanced(to: Data([UInt8(n % 256)]), eventID: "e-\(n)", at: Date())
        }
        #expect(current.recentEventIDs.count == ReplayCheckpoint.recentLimit)
        #expect(current.handled("e-\(ReplayCheckpoint.recentLimit + 20)"))
        #expect(!current.handled("e-20"), "the oldest ids are dropped")
        #expect(current.handled("e-21"))
    }
}
#endif

#if PubSub
/// The store contract, for the file and the in-memory store.
@Suite struct ReplayStoreConformanceTests {
    @Test(arguments: ReplayStoreConformance.checks)
    func theFileStoreConforms(_ check: ReplayStoreConformance.Check) async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("replay-\(UUID().uuidString).store").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await check.run { FileReplayStore(path: path) }
    }

    @Test(arguments: ReplayStoreConformance.checks)
    func theInMemoryStoreConforms(_ check: ReplayStoreConformance.Check) async throws {
        try await check.run { InMemoryReplayStore() }
    }
}
#endif
