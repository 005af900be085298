import Foundation
import SalesforceResilience
import SalesforceResilienceTesting
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The file journal killed with SIGKILL while sixteen producers enqueue and a drainer
/// acknowledges and compacts (the JournalDrill process), three times on the same journal: every
/// enqueue that returned before the kill is still there, at its value or a newer one, unless an
/// acknowledge took it; nothing acknowledged comes back; and each restart opens the journal
/// wherever the kill fell (between a group's write and its `fsync`, during a compaction).
///
/// A kill keeps what the kernel was given, so this shows that a call returns only after its
/// line was written; that the `fsync` came first is shown by ``JournalGroupCommitTests``, and
/// a line cut short (a kill cannot cut a `write` to a file; a full disk or a power cut can) by
/// ``FileJournalOutboxStoreTests``, at every byte of every write. Real processes in real time (well under a second); the test waits
/// on the drill's lines, never on a fixed sleep.
@Suite struct JournalKillTests {
    static let drill = ChildProcess.builtExecutable(named: "JournalDrill")

    /// What the drill reported: per key, the highest value enqueued and acknowledged, and the
    /// claims whose acknowledge was under way at a kill (it may have taken them or not).
    struct Reported {
        var enqueued: [String: Int] = [:]
        var delivered: [String: Int] = [:]
        var inDoubt: [String: Int] = [:]

        mutating func read(_ lines: [String]) {
            var claimed: [String: Int] = [:]
            for line in lines {
                if line == "settled" { claimed = [:] }
                let parts = line.split(separator: " ")
                guard parts.count == 3, let value = Int(parts[2]) else { continue }
                let key = String(parts[1])
                switch parts[0] {
                case "ok": enqueued[key] = max(enqueued[key] ?? -1, value)
                case "done": delivered[key] = max(delivered[key] ?? -1, value)
                case "claim": claimed[key] = value
                default: continue
                }
            }
            inDoubt.merge(claimed) { max($0, $1) }
        }
    }

    @Test(.timeLimit(.minutes(2))) func killedMidWriteThreeTimesItLosesNoReturnedEnqueueAndRevivesNoAcknowledgedOne() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.drill.path), "build JournalDrill first: \(Self.drill.path)")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("journal-kill-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let journal = directory.appendingPathComponent("outbox.jsonl").path
        var reported = Reported()
        for round in 1...3 {
            let process = try ChildProcess(Self.drill, arguments: ["--journal", journal, "--round", "\(round)"])
            let milestone = await process.waitForLine(containing: "milestone")
            process.send(SIGKILL)
            let status = await process.exitStatus()
            try #require(milestone != nil, "round \(round): the drill ended before 300 enqueues: \(process.errorLines.suffix(3))")
            #expect(status == SIGKILL, "round \(round): exit \(status)")
            #expect(process.errorLines.first?.hasPrefix("open ") == true, "round \(round) did not open the journal: \(process.errorLines.prefix(2))")
            reported.read(process.errorLines)
        }
        #expect(reported.enqueued.count > 300, "too few keys enqueued to mean anything: \(reported.enqueued.count)")
        #expect(!reported.delivered.isEmpty, "the drill acknowledged nothing, so no compaction or settle met a kill")

        let store = try FileJournalOutboxStore(path: journal)
        var kept: [String: Int] = [:]
        for entry in await store.pending(limit: .max) {
            guard case .number(let value) = entry.fields["Value__c"] else {
                Issue.record("\(entry.externalId) came back without its value: \(entry.fields)")
                continue
            }
            kept[entry.externalId] = Int(value)
        }
        for (key, value) in reported.enqueued {
            let pending = kept[key] ?? -1
            // Acknowledged, reported or not: the kill may have come between the two.
            let delivered = max(reported.delivered[key] ?? -1, kept[key] == nil ? reported.inDoubt[key] ?? -1 : -1)
            #expect(max(pending, delivered) >= value, "\(key) = \(value) was enqueued, but the journal holds \(pending) and \(delivered) was delivered")
        }
        for (key, delivered) in reported.delivered {
            if let pending = kept[key] {
                #expect(pending > delivered, "\(key) = \(delivered) was acknowledged, yet \(pending) is pending again")
            }
        }
        for key in kept.keys where reported.enqueued[key] == nil {
            // Written but killed before its enqueue returned: allowed (its caller never heard
            // success and would enqueue it again), but only in the shape the drill writes.
            #expect(key.range(of: #"^R[1-3]-P[0-9]+-K[0-9]+$"#, options: .regularExpression) != nil, "a key nobody wrote: \(key)")
        }
        await store.close()
    }
}
