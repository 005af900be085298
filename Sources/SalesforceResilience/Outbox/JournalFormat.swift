import Foundation

/// How the outbox journal is laid out on disk.
///
/// ```
/// {"format":"SalesforceResilience.OutboxJournal","version":1}
/// {"enqueue":{"_0":[…]}}<TAB>3a1f09c2
/// {"acknowledge":{"_0":["Payment__c/Reference__c/PAY-1"]}}<TAB>0b77e1d4
/// ```
///
/// The header names the format and its version. Every later line is one ``OutboxChange`` as JSON
/// followed by a tab and the CRC-32 of the JSON in hex, so a changed byte is detected rather than
/// read as a different change. (JSON text never holds a raw tab.) Journals written before the
/// header existed have no header and no checksums; they are still read.
enum JournalFormat {
    static let formatName = "SalesforceResilience.OutboxJournal"
    static let version = 1
    static let header = Data(#"{"format":"SalesforceResilience.OutboxJournal","version":1}"#.utf8) + Data([0x0A])

    private struct Header: Decodable {
        let format: String
        let version: Int
    }

    /// One change as a checksummed line, newline included.
    static func line(_ change: OutboxChange, encoder: JSONEncoder) throws -> Data {
        ChecksummedLine.encode(try encoder.encode(change))
    }

    /// What replaying a journal found.
    struct Replay {
        var state = OutboxState()
        var metadata: [String: String] = [:]
        /// The bytes up to the end of the last complete line: anything after is a torn write.
        var validBytes = 0
    }

    /// Replays `data`, the contents of the journal at `path` (named in errors).
    static func replay(_ data: Data, path: String) throws -> Replay {
        var replay = Replay()
        guard !data.isEmpty else { return replay }
        let decoder = JSONDecoder()
        var start = data.startIndex
        var lines = 0
        var checksummed = false
        while let newline = data[start...].firstIndex(of: 0x0A) {
            let bytes = data[start..<newline]
            lines += 1
            if lines == 1, let header = try? decoder.decode(Header.self, from: Data(bytes)) {
                guard header.format == formatName else { throw notAJournal(path) }
                guard header.version <= version else {
                    throw FileJournalOutboxStore.JournalError(
                        description: "\(path) is an outbox journal of format version \(header.version), written by a newer version of this library")
                }
                checksummed = true
            } else if !bytes.isEmpty {
                guard let change = decode(bytes, checksummed: checksummed, decoder: decoder) else {
                    if lines == 1 { throw notAJournal(path) }
                    throw FileJournalOutboxStore.JournalError(
                        description: "\(path): line \(lines) is corrupt (its checksum or JSON does not hold); refusing to drop what follows it")
                }
                if case .metadata(let values) = change { replay.metadata.merge(values) { $1 } }
                replay.state.apply(change)
            }
            start = newline + 1
        }
        // A file with no complete line is ours only if it is the start of our own header, torn by
        // a crash while the journal was being created. Anything else is someone else's file.
        if lines == 0, !header.starts(with: data) { throw notAJournal(path) }
        replay.validBytes = start - data.startIndex
        return replay
    }

    /// A line's change, or `nil` if its checksum (when the format has them) or JSON is wrong.
    private static func decode(_ bytes: Data.SubSequence, checksummed: Bool, decoder: JSONDecoder) -> OutboxChange? {
        var json = bytes
        if checksummed {
            guard let checked = ChecksummedLine.decode(bytes) else { return nil }
            json = checked
        }
        guard let change = try? decoder.decode(OutboxChange.self, from: Data(json)) else { return nil }
        // Attempt counts come from the file: a negative one is not ours.
        if case .enqueue(let entries) = change, entries.contains(where: { $0.attempts < 0 }) { return nil }
        return change
    }

    static func notAJournal(_ path: String) -> FileJournalOutboxStore.JournalError {
        FileJournalOutboxStore.JournalError(
            description: "\(path) is not an outbox journal (its first line is not a journal record); refusing to open or change it")
    }
}
