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
///
/// Lines are written by ``json(_:)`` and read by ``JournalLineReader``, byte by byte; `JSONDecoder`
/// reads only what the fast reader does not take.
enum JournalFormat {
    static let formatName = "SalesforceResilience.OutboxJournal"
    static let version = 1
    static let header = Data(#"{"format":"SalesforceResilience.OutboxJournal","version":1}"#.utf8) + Data([0x0A])

    private struct Header: Decodable {
        let format: String
        let version: Int
    }

    /// One change as a checksummed line, newline included.
    ///
    /// - Throws: ``JSONBytes/InvalidNumber`` for a field JSON cannot carry (as `JSONEncoder` would).
    static func line(_ change: OutboxChange) throws -> Data {
        ChecksummedLine.encode(Data(try json(change)))
    }

    /// The JSON of a change: what `JSONEncoder` writes for the change as a Swift enum
    /// (`{"enqueue":{"_0":[…]}}`), so journals stay readable by either side.
    static func json(_ change: OutboxChange) throws(JSONBytes.InvalidNumber) -> [UInt8] {
        var out: [UInt8] = []
        func open(_ name: String) { out.append(contentsOf: "{\"\(name)\":{\"_0\":".utf8) }
        func member(_ name: String, first: Bool = false) {
            if !first { out.append(UInt8(ascii: ",")) }
            JSONBytes.write(name, to: &out)
            out.append(UInt8(ascii: ":"))
        }
        func list(_ name: String, _ keys: [String]) {
            open(name)
            out.append(UInt8(ascii: "["))
            for (index, key) in keys.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                JSONBytes.write(key, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        }
        switch change {
        case .enqueue(let entries):
            open("enqueue")
            out.append(UInt8(ascii: "["))
            for (index, entry) in entries.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                out.append(UInt8(ascii: "{"))
                member("sobject", first: true)
                JSONBytes.write(entry.sobject, to: &out)
                member("externalIdField")
                JSONBytes.write(entry.externalIdField, to: &out)
                member("externalId")
                JSONBytes.write(entry.externalId, to: &out)
                member("fields")
                switch entry.fields {
                case .json(let bytes): out.append(contentsOf: bytes)
                case .values(let values): try JSONBytes.write(values, to: &out)
                }
                member("enqueuedAt")
                try JSONBytes.write(entry.enqueuedAt, to: &out)
                member("attempts")
                out.append(contentsOf: String(entry.attempts).utf8)
                if let group = entry.group {
                    member("group")
                    JSONBytes.write(group, to: &out)
                }
                out.append(UInt8(ascii: "}"))
            }
            out.append(UInt8(ascii: "]"))
        case .acknowledge(let keys): list("acknowledge", keys)
        case .attempt(let keys): list("attempt", keys)
        case .deadLetter(let keys): list("deadLetter", keys)
        case .metadata(let values):
            open("metadata")
            out.append(UInt8(ascii: "{"))
            for (index, key) in values.keys.sorted().enumerated() {
                member(key, first: index == 0)
                JSONBytes.write(values[key] ?? "", to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
        out.append(contentsOf: "}}".utf8)
        return out
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
        guard !data.isEmpty else { return Replay() }
        return try data.withUnsafeBytes { try replay($0, path: path) }
    }

    private static func replay(_ bytes: UnsafeRawBufferPointer, path: String) throws -> Replay {
        var replay = Replay()
        // About one entry per 150 bytes of journal: room for them at once, not grown step by step.
        replay.state.reserveCapacity(bytes.count / 150)
        var start = 0
        var lines = 0
        var checksummed = false
        while start < bytes.count, let found = memchr(bytes.baseAddress! + start, 0x0A, bytes.count - start) {
            let newline = bytes.baseAddress!.distance(to: UnsafeRawPointer(found))
            let line = UnsafeRawBufferPointer(rebasing: bytes[start..<newline])
            lines += 1
            if lines == 1, let header = try? JSONDecoder().decode(Header.self, from: Data(line)) {
                guard header.format == formatName else { throw notAJournal(path) }
                guard header.version <= version else {
                    throw FileJournalOutboxStore.JournalError(
                        description: "\(path) is an outbox journal of format version \(header.version), written by a newer version of this library")
                }
                checksummed = true
            } else if !line.isEmpty {
                guard let change = decode(line, checksummed: checksummed) else {
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
        if lines == 0, !header.starts(with: bytes) { throw notAJournal(path) }
        replay.validBytes = start
        return replay
    }

    /// A line's change, or `nil` if its checksum (when the format has them) or JSON is wrong.
    private static func decode(_ line: UnsafeRawBufferPointer, checksummed: Bool) -> OutboxChange? {
        var json = line
        if checksummed {
            guard let checked = ChecksummedLine.decode(line) else { return nil }
            json = checked
        }
        guard let change = JournalLineReader.change(json) ?? decodeWithFoundation(json) else { return nil }
        // Attempt counts come from the file: a negative one is not ours.
        if case .enqueue(let entries) = change, entries.contains(where: { $0.attempts < 0 }) { return nil }
        return change
    }

    /// The change as `JSONDecoder` reads it, for a line ``JournalLineReader`` does not take: one
    /// with members it does not know, say, or no valid change at all (then `nil` here too).
    private static func decodeWithFoundation(_ json: UnsafeRawBufferPointer) -> OutboxChange? {
        guard let coded = try? JSONDecoder().decode(CodedChange.self, from: Data(json)) else { return nil }
        switch coded {
        case .enqueue(let entries): return .enqueue(entries.map(StoredEntry.init))
        case .acknowledge(let keys): return .acknowledge(keys)
        case .attempt(let keys): return .attempt(keys)
        case .deadLetter(let keys): return .deadLetter(keys)
        case .metadata(let values): return .metadata(values)
        }
    }

    /// ``OutboxChange`` as Foundation's coders see it.
    private enum CodedChange: Decodable {
        case enqueue([OutboxEntry])
        case acknowledge([String])
        case attempt([String])
        case deadLetter([String])
        case metadata([String: String])
    }

    static func notAJournal(_ path: String) -> FileJournalOutboxStore.JournalError {
        FileJournalOutboxStore.JournalError(
            description: "\(path) is not an outbox journal (its first line is not a journal record); refusing to open or change it")
    }
}
