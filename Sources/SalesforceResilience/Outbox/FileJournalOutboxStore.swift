import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A durable ``OutboxStore``: an append-only journal of JSON lines, each `fsync`ed before the
/// call returns, so an enqueued record survives `kill -9` and power loss.
///
/// - The first line names the format and its version; a file that is neither a journal nor a
///   journal written before the header existed is refused, never truncated.
/// - ``metadata`` labels the journal itself (the org and job it belongs to) and survives compaction.
/// - Recovery replays the journal. Only lines ended by a newline count: a write torn by a crash
///   leaves an unterminated last line, which is discarded (and cut from the file).
/// - When the journal holds many more lines than pending entries, it is compacted: the pending
///   entries are written to a temporary file, `fsync`ed and renamed over the journal, so a crash
///   leaves either the old journal or the new one.
/// - Dead letters are appended to `<path>.deadletter.jsonl`.
public actor FileJournalOutboxStore: OutboxStore {
    /// A journal that cannot be used.
    public struct JournalError: Error, Sendable, CustomStringConvertible {
        /// What went wrong.
        public var description: String

        /// `what` followed by the system's explanation of `errno`.
        static func system(_ what: String, _ code: Int32 = errno) -> JournalError {
            JournalError(description: "\(what): \(String(cString: strerror(code))) (errno \(code))")
        }
    }

    /// The first line of every journal this version writes.
    static let header = Data(#"{"format":"SalesforceResilience.OutboxJournal","version":1}"#.utf8) + Data([0x0A])
    private struct Header: Decodable {
        let format: String
        let version: Int
    }

    /// The journal's path.
    public nonisolated let path: String
    /// The dead-letter file's path.
    public nonisolated var deadLetterPath: String { path + ".deadletter.jsonl" }
    private var descriptor: Int32
    private var state: OutboxState
    /// The journal's labels, such as the org and job it belongs to; see ``setMetadata(_:)``.
    public private(set) var metadata: [String: String]
    private var journalBytes = 0
    private var enqueuedBytes = 0
    private var enqueuedEntries = 0
    /// The journal size below which it is never compacted.
    public nonisolated let compactAfterBytes: Int
    private let encoder = JSONEncoder()

    /// Opens (or creates) the journal at `path` and replays it.
    ///
    /// - Parameter compactAfterBytes: the journal is compacted only above this size. Default 1 MB.
    public init(path: String, compactAfterBytes: Int = 1_000_000) throws {
        self.path = path
        self.compactAfterBytes = compactAfterBytes
        unlink(path + ".compact")  // a compaction interrupted before its rename
        let replayed = try Self.replay(path: path)
        self.state = replayed.state
        self.metadata = replayed.metadata
        self.journalBytes = replayed.validBytes
        self.enqueuedBytes = replayed.validBytes
        self.enqueuedEntries = max(1, replayed.state.entries.count)
        descriptor = open(path, O_WRONLY | O_CREAT, 0o644)
        guard descriptor >= 0 else { throw JournalError.system("cannot open \(path)") }
        // Cut a torn last line so the next append starts on a line of its own.
        guard ftruncate(descriptor, off_t(replayed.validBytes)) == 0, lseek(descriptor, 0, SEEK_END) >= 0 else {
            throw JournalError.system("cannot truncate \(path)")
        }
        if replayed.validBytes == 0 {
            try Self.writeAll(descriptor, Self.header)
            guard fsync(descriptor) == 0 else { throw JournalError.system("fsync \(path)") }
            journalBytes = Self.header.count
        }
    }

    deinit { close(descriptor) }

    // MARK: OutboxStore

    /// Appends and `fsync`s the entries; see ``OutboxStore/enqueue(_:)``.
    public func enqueue(_ new: [OutboxEntry]) throws {
        guard !new.isEmpty else { return }
        let bytes = try append(.enqueue(new))
        state.apply(.enqueue(new))
        enqueuedBytes += bytes
        enqueuedEntries += new.count
    }

    /// See ``OutboxStore/pending(limit:)``.
    public func pending(limit: Int) -> [OutboxEntry] {
        state.pending(limit: limit)
    }

    /// See ``OutboxStore/acknowledge(_:)``.
    public func acknowledge(_ keys: [String]) throws {
        guard !keys.isEmpty else { return }
        try append(.acknowledge(keys))
        state.apply(.acknowledge(keys))
        try compactIfWorthIt()
    }

    /// See ``OutboxStore/recordAttempt(_:)``.
    public func recordAttempt(_ keys: [String]) throws {
        guard !keys.isEmpty else { return }
        try append(.attempt(keys))
        state.apply(.attempt(keys))
    }

    /// Appends to the dead-letter file, then removes the entries; see ``OutboxStore/deadLetter(_:)``.
    public func deadLetter(_ letters: [DeadLetter]) throws {
        guard !letters.isEmpty else { return }
        var text = Data()
        for letter in letters {
            text.append(try encoder.encode(letter))
            text.append(0x0A)
        }
        let file = open(deadLetterPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        guard file >= 0 else { throw JournalError.system("cannot open \(deadLetterPath)") }
        defer { close(file) }
        try Self.writeAll(file, text)
        guard fsync(file) == 0 else { throw JournalError.system("fsync \(deadLetterPath)") }
        let keys = letters.map(\.entry.key)
        try append(.deadLetter(keys))
        state.apply(.deadLetter(keys))
    }

    /// See ``OutboxStore/backlog()``.
    public func backlog() -> (count: Int, oldest: Date?) {
        (state.entries.count, state.pending(limit: 1).first?.enqueuedAt)
    }

    /// Merges `values` into the journal's ``metadata`` durably (one `fsync`ed line).
    public func setMetadata(_ values: [String: String]) throws {
        guard !values.isEmpty else { return }
        try append(.metadata(values))
        metadata.merge(values) { $1 }
    }

    /// Every dead letter written so far.
    public func deadLetters() throws -> [DeadLetter] {
        guard let data = FileManager.default.contents(atPath: deadLetterPath) else { return [] }
        return try data.split(separator: 0x0A).map { try JSONDecoder().decode(DeadLetter.self, from: Data($0)) }
    }

    // MARK: Journal

    /// Writes one change as one line and `fsync`s it. Returns the bytes written.
    @discardableResult
    private func append(_ change: OutboxChange) throws -> Int {
        var data = try encoder.encode(change)
        data.append(0x0A)
        try Self.writeAll(descriptor, data)
        guard fsync(descriptor) == 0 else { throw JournalError.system("fsync \(path)") }
        journalBytes += data.count
        return data.count
    }

    private func compactIfWorthIt() throws {
        // Compact when the journal is big and mostly history: more than 4× the pending entries' size.
        let averageEntry = enqueuedEntries > 0 ? max(1, enqueuedBytes / enqueuedEntries) : 1
        guard journalBytes > compactAfterBytes, journalBytes > 4 * state.entries.count * averageEntry else { return }
        let temporary = path + ".compact"
        let file = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard file >= 0 else { throw JournalError.system("cannot open \(temporary)") }
        let live = state.pending(limit: Int.max)
        var data = Self.header
        if !metadata.isEmpty {
            data.append(try encoder.encode(OutboxChange.metadata(metadata)))
            data.append(0x0A)
        }
        data.append(try encoder.encode(OutboxChange.enqueue(live)))
        data.append(0x0A)
        do {
            try Self.writeAll(file, data)
            guard fsync(file) == 0 else { throw JournalError.system("fsync \(temporary)") }
        } catch {
            close(file)
            throw error
        }
        close(file)
        guard rename(temporary, path) == 0 else { throw JournalError.system("cannot rename \(temporary) to \(path)") }
        Self.syncDirectory(of: path)
        close(descriptor)
        descriptor = open(path, O_WRONLY | O_APPEND, 0o644)
        guard descriptor >= 0 else { throw JournalError.system("cannot reopen \(path)") }
        var compacted = OutboxState()
        compacted.apply(.enqueue(live))
        state = compacted
        journalBytes = data.count
        enqueuedBytes = data.count
        enqueuedEntries = live.count
    }

    private struct Replay {
        var state = OutboxState()
        var metadata: [String: String] = [:]
        var validBytes = 0
    }

    private static func replay(path: String) throws -> Replay {
        var replay = Replay()
        guard let data = FileManager.default.contents(atPath: path), !data.isEmpty else { return replay }
        let decoder = JSONDecoder()
        var start = data.startIndex
        var lines = 0
        while let newline = data[start...].firstIndex(of: 0x0A) {
            let bytes = Data(data[start..<newline])
            lines += 1
            if lines == 1, let header = try? decoder.decode(Header.self, from: bytes) {
                guard header.format == "SalesforceResilience.OutboxJournal" else { throw notAJournal(path) }
                guard header.version <= 1 else {
                    throw JournalError(description: "\(path) is an outbox journal of format version \(header.version), written by a newer version of this library")
                }
            } else if !bytes.isEmpty {
                guard let line = try? decoder.decode(OutboxChange.self, from: bytes) else {
                    if lines == 1 { throw notAJournal(path) }
                    throw JournalError(description: "\(path): line \(lines) is corrupt; refusing to drop what follows it")
                }
                if case .metadata(let values) = line { replay.metadata.merge(values) { $1 } }
                replay.state.apply(line)
            }
            start = newline + 1
        }
        // A file with no complete line is ours only if it is the start of our own header, torn by
        // a crash while the journal was being created. Anything else is someone else's file.
        if lines == 0, !header.starts(with: data) { throw notAJournal(path) }
        replay.validBytes = start - data.startIndex
        return replay
    }

    private static func notAJournal(_ path: String) -> JournalError {
        JournalError(description: "\(path) is not an outbox journal (its first line is not a journal record); refusing to open or change it")
    }

    private static func writeAll(_ descriptor: Int32, _ data: Data) throws {
        try data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw JournalError.system("write failed")
                }
                offset += written
            }
        }
    }

    private static func syncDirectory(of path: String) {
        let directory = (path as NSString).deletingLastPathComponent
        let descriptor = open(directory.isEmpty ? "." : directory, O_RDONLY)
        if descriptor >= 0 {
            fsync(descriptor)
            close(descriptor)
        }
    }
}
