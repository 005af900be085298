// A process that works an outbox journal hard, for JournalKillTests: concurrent producers
// enqueue (each key again and again, with a growing value) while one of them also claims and
// acknowledges batches, so group commits, settles and compactions interleave. Every call that
// returned is reported on standard error as one line, written at once, so the test can SIGKILL
// the process at any moment and check the journal against what was reported:
//
//   open <pending>        the journal opened; <pending> entries were waiting
//   ok <key> <value>      enqueue(<key> = <value>) returned
//   claim <key> <value>   <key> was claimed at <value>, to be acknowledged
//   done <key> <value>    acknowledge took <key> at <value>
//   settled               the acknowledge of the claims above returned
//   milestone             the 300th enqueue returned
//
//   JournalDrill --journal PATH --round R [--producers N] [--compact-after BYTES]
//
// It stops by itself after 30 s, in case the test that started it died first.
import Foundation
import SalesforceResilience

var options: [String: String] = [:]
var arguments = CommandLine.arguments.dropFirst()
while let flag = arguments.popFirst(), let value = arguments.popFirst() { options[flag] = value }
guard let journal = options["--journal"], let round = options["--round"] else {
    FileHandle.standardError.write(Data("usage: JournalDrill --journal PATH --round R [--producers N] [--compact-after BYTES]\n".utf8))
    exit(2)
}
let producers = options["--producers"].flatMap(Int.init) ?? 16
let compactAfter = options["--compact-after"].flatMap(Int.init) ?? 20_000

/// One line, one write(2): lines from concurrent tasks never interleave.
func report(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
}

let deadline = ContinuousClock.now + .seconds(30)
let store = try FileJournalOutboxStore(path: journal, compactAfterBytes: compactAfter)
report("open \(await store.backlog().count)")
let returned = Lock(0)
try await withThrowingTaskGroup(of: Void.self) { group in
    for producer in 0..<producers {
        group.addTask {
            var value = 0
            while ContinuousClock.now < deadline {
                let key = "R\(round)-P\(producer)-K\(value % 40)"
                try await store.enqueue([OutboxEntry(sobject: "Payment__c", externalIdField: "Reference__c", externalId: key,
                                                     fields: ["Value__c": .number(Double(value))], enqueuedAt: Date())])
                report("ok \(key) \(value)")
                if returned.withLock({ count in count += 1; return count }) == 300 { report("milestone") }
                value += 1
                // The first producer is also the drainer: every 5th enqueue it settles a batch,
                // which keeps the backlog small enough that the journal is compacted often.
                if producer == 0, value % 5 == 0 {
                    let batch = await store.claim(limit: 200, lease: .seconds(60), groupsTogether: false)
                    func value(_ entry: OutboxEntry) -> Int {
                        if case .number(let value) = entry.fields["Value__c"] { return Int(value) }
                        return -1
                    }
                    for entry in batch.entries { report("claim \(entry.externalId) \(value(entry))") }
                    let taken = Set(try await store.acknowledge(batch.claims))
                    for entry in batch.entries where taken.contains(entry.key) { report("done \(entry.externalId) \(value(entry))") }
                    report("settled")
                }
            }
        }
    }
    try await group.waitForAll()
}
