import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A durable ``OutboxStore``: an append-only journal of JSON lines, each `fsync`ed before the
/// call returns, so an enqueued record survives `kill -9` and power loss.
///
/// - Group commit: enqueues that arrive while one is about to `fsync` write their lines and share
///   that `fsync`; each still returns only once its line is on disk. An `fsync` that fails fails
///   every enqueue it covered: the journal is cut back to its last durable size and replayed, so
///   none of them stays (claims in flight then settle nothing and their entries go out again).
///
/// - The first line names the format and its version, and every line carries a CRC-32
///   (``JournalFormat``); a file that is neither a journal nor a journal written before the
///   header existed is refused, never truncated.
/// - One writer at a time: the store holds an exclusive lock (on `<path>.lock`) while open; a
///   second store on the same journal, in this process or another, is refused. ``close()``
///   releases it (so does the end of the process).
/// - A write or `fsync` that fails (disk full, file-size limit) is cut back before its error is
///   thrown, so the next line starts clean and the journal still replays.
/// - Files are owner-only (`0600`): they hold payment records.
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

    /// The journal's path.
    public nonisolated let path: String
    /// The dead-letter file's path.
    public nonisolated var deadLetterPath: String { path + ".deadletter.jsonl" }
    private var descriptor: Int32
    private var lockDescriptor: Int32
    private var state: OutboxState
    /// The journal's labels, such as the org and job it belongs to; see ``setMetadata(_:)``.
    public private(set) var metadata: [String: String]
    private var journalBytes = 0
    private var enqueuedBytes = 0
    private var enqueuedEntries = 0
    /// The journal size below which it is never compacted.
    public nonisolated let compactAfterBytes: Int
    private let encoder = JSONEncoder()
    private let io: JournalIO
    private let clock: any ResilienceClock
    /// Group commit: enqueue lines written (numbered), and how many of them an `fsync` covered.
    private var written: UInt64 = 0
    private var durable: UInt64 = 0
    /// The journal's size at its last successful `fsync`.
    private var durableBytes = 0
    /// Whether an enqueue is about to `fsync` for the others waiting in ``syncWaiters``.
    private var syncPending = false
    private var syncWaiters: [CheckedContinuation<Void, any Error>] = []

    /// Opens (or creates) the journal at `path`, takes its lock, and replays it.
    ///
    /// - Parameter compactAfterBytes: the journal is compacted only above this size. Default 1 MB.
    /// - Throws: ``JournalError`` for a file that is not a journal, a journal another store holds
    ///   open, a corrupt line, or a system error.
    /// - Parameter clock: what claims' leases run on.
    public init(path: String, compactAfterBytes: Int = 1_000_000, clock: any ResilienceClock = SystemClock()) throws {
        try self.init(path: path, compactAfterBytes: compactAfterBytes, io: .posix, clock: clock)
    }

    /// ``init(path:compactAfterBytes:clock:)`` over another file I/O, so tests can make writes fail.
    init(path: String, compactAfterBytes: Int = 1_000_000, io: JournalIO, clock: any ResilienceClock = SystemClock()) throws {
        self.path = path
        self.compactAfterBytes = compactAfterBytes
        self.io = io
        self.clock = clock
        lockDescriptor = try JournalIO.lock(path + ".lock")
        descriptor = -1
        do {
            unlink(path + ".compact")  // a compaction interrupted before its rename
            let replayed = try JournalFormat.replay(FileManager.default.contents(atPath: path) ?? Data(), path: path)
            state = replayed.state
            metadata = replayed.metadata
            journalBytes = replayed.validBytes
            enqueuedBytes = replayed.validBytes
            enqueuedEntries = max(1, replayed.state.count)
            descriptor = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else { throw JournalError.system("cannot open \(path)") }
            // Owner-only, also for a journal an earlier version created world-readable.
            fchmod(descriptor, 0o600)
            // Cut a torn last line so the next append starts on a line of its own.
            guard ftruncate(descriptor, off_t(replayed.validBytes)) == 0, lseek(descriptor, 0, SEEK_END) >= 0 else {
                throw JournalError.system("cannot truncate \(path)")
            }
            if replayed.validBytes == 0 {
                try io.writeAll(descriptor, JournalFormat.header)
                guard io.fsync(descriptor) == 0 else { throw JournalError.system("fsync \(path)") }
                journalBytes = JournalFormat.header.count
            }
            durableBytes = journalBytes
        } catch {
            // Closed here and marked closed, so that a deinit after a failed init closes nothing twice.
            if descriptor >= 0 { closeDescriptor(descriptor) }
            closeDescriptor(lockDescriptor)
            descriptor = -1
            lockDescriptor = -1
            throw error
        }
    }

    deinit {
        if descriptor >= 0 { closeDescriptor(descriptor) }
        if lockDescriptor >= 0 { closeDescriptor(lockDescriptor) }
    }

    /// Closes the journal and releases its lock; later calls throw. Everything written is
    /// already on disk.
    public func close() {
        if descriptor >= 0 { closeDescriptor(descriptor) }
        if lockDescriptor >= 0 { closeDescriptor(lockDescriptor) }
        descriptor = -1
        lockDescriptor = -1
    }

    // MARK: OutboxStore

    /// Appends the entries and returns once an `fsync` covered them, shared with the enqueues
    /// that arrived meanwhile; see ``OutboxStore/enqueue(_:)``.
    public func enqueue(_ new: [OutboxEntry]) async throws {
        guard !new.isEmpty else { return }
        try requireOpen()
        let stored = new.map(StoredEntry.init)
        let data = try JournalFormat.line(.enqueue(stored))
        try io.appendCuttingBack(descriptor, data, path: path, sync: false)
        journalBytes += data.count
        state.apply(.enqueue(stored))
        enqueuedBytes += data.count
        enqueuedEntries += new.count
        written += 1
        try await commit(through: written)
    }

    /// Returns once line `number` is on disk: it joins an `fsync` about to happen, or makes one
    /// after letting the enqueues queued behind it write their lines.
    private func commit(through number: UInt64) async throws {
        guard durable < number else { return }
        if syncPending {
            try await withCheckedThrowingContinuation { syncWaiters.append($0) }
            return
        }
        syncPending = true
        await Task.yield()  // the enqueues queued on this actor write now, and share the fsync
        syncPending = false
        let waiters = syncWaiters
        syncWaiters = []
        let result: Result<Void, any Error>
        if durable >= written {
            result = .success(())  // another change's fsync covered these lines meanwhile
        } else if descriptor < 0 {
            result = .failure(JournalError(description: "\(path) was closed"))
        } else if io.fsync(descriptor) == 0 {
            markDurable()
            result = .success(())
        } else {
            let error = JournalError.system("fsync \(path)")
            result = .failure(error)
            forgetUnsyncedLines()
        }
        for waiter in waiters { waiter.resume(with: result) }
        try result.get()
    }

    /// Everything written so far is on disk.
    private func markDurable() {
        durable = written
        durableBytes = journalBytes
    }

    /// An `fsync` failed: the lines since the last good one may or may not be on disk, and their
    /// enqueues are failing. Cut them off and rebuild the state from what the journal holds.
    private func forgetUnsyncedLines() {
        _ = ftruncate(descriptor, off_t(durableBytes))
        _ = lseek(descriptor, 0, SEEK_END)
        journalBytes = durableBytes
        written = durable
        guard let replayed = try? JournalFormat.replay(FileManager.default.contents(atPath: path) ?? Data(), path: path) else {
            close()  // memory would hold entries the disk may not: refuse further calls instead
            return
        }
        let leases = state.leases
        state = replayed.state
        state.leases = leases
    }

    /// See ``OutboxStore/pending(limit:)``.
    public func pending(limit: Int) -> [OutboxEntry] {
        state.pending(limit: limit)
    }

    /// See ``OutboxStore/claim(limit:lease:groupsTogether:)``. Claims are held in memory: they
    /// coordinate drainers in this process (the journal admits one process at a time).
    public func claim(limit: Int, lease: Duration, groupsTogether: Bool) -> OutboxClaimBatch {
        state.claim(limit: limit, now: clock.now, until: clock.now + lease, groupsTogether: groupsTogether)
    }

    /// See ``OutboxStore/release(_:)``.
    public func release(_ claims: [OutboxClaim]) { state.release(claims) }

    /// See ``OutboxStore/acknowledge(_:)``.
    @discardableResult
    public func acknowledge(_ claims: [OutboxClaim]) throws -> [String] {
        let keys = state.settle(claims, now: clock.now)
        guard !keys.isEmpty else { return [] }
        try append(.acknowledge(keys))
        state.apply(.acknowledge(keys))
        try compactIfWorthIt()
        return keys
    }

    /// See ``OutboxStore/recordAttempt(_:)``.
    public func recordAttempt(_ claims: [OutboxClaim]) throws {
        let keys = state.settle(claims, now: clock.now)
        guard !keys.isEmpty else { return }
        do {
            try append(.attempt(keys))
        } catch {
            state.release(claims)
            throw error
        }
        state.apply(.attempt(keys))
    }

    /// Appends to the dead-letter file, then removes the entries; see ``OutboxStore/deadLetter(_:)``.
    @discardableResult
    public func deadLetter(_ letters: [DeadLetter]) throws -> [String] {
        try requireOpen()
        let taken = state.settle(letters, now: clock.now)
        guard !taken.isEmpty else { return [] }
        var text = Data()
        for letter in taken {
            text.append(try encoder.encode(letter))
            text.append(0x0A)
        }
        let file = open(deadLetterPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard file >= 0 else { throw JournalError.system("cannot open \(deadLetterPath)") }
        defer { closeDescriptor(file) }
        fchmod(file, 0o600)
        try io.appendCuttingBack(file, text, path: deadLetterPath)
        let keys = taken.map(\.entry.key)
        try append(.deadLetter(keys))
        state.apply(.deadLetter(keys))
        return keys
    }

    /// See ``OutboxStore/backlog()``.
    public func backlog() -> (count: Int, oldest: Date?) {
        state.backlog
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

    private func requireOpen() throws {
        guard descriptor >= 0 else { throw JournalError(description: "\(path) was closed") }
    }

    /// Writes one change as one line and `fsync`s it; a failure is cut back before it is thrown.
    /// Returns the bytes written.
    @discardableResult
    private func append(_ change: OutboxChange) throws -> Int {
        try requireOpen()
        let data = try JournalFormat.line(change)
        try io.appendCuttingBack(descriptor, data, path: path)
        journalBytes += data.count
        markDurable()  // its fsync covered every enqueue line before it too
        return data.count
    }

    private func compactIfWorthIt() throws {
        // Compact when the journal is big and mostly history: more than 4× the pending entries' size.
        let averageEntry = enqueuedEntries > 0 ? max(1, enqueuedBytes / enqueuedEntries) : 1
        guard journalBytes > compactAfterBytes, journalBytes > 4 * state.count * averageEntry else { return }
        let temporary = path + ".compact"
        let file = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard file >= 0 else { throw JournalError.system("cannot open \(temporary)") }
        let live = state.pendingStored(limit: Int.max)
        var data = JournalFormat.header
        if !metadata.isEmpty { data.append(try JournalFormat.line(.metadata(metadata))) }
        data.append(try JournalFormat.line(.enqueue(live)))
        do {
            try io.writeAll(file, data)
            guard io.fsync(file) == 0 else { throw JournalError.system("fsync \(temporary)") }
        } catch {
            closeDescriptor(file)
            unlink(temporary)
            throw error
        }
        closeDescriptor(file)
        guard rename(temporary, path) == 0 else { throw JournalError.system("cannot rename \(temporary) to \(path)") }
        JournalIO.syncDirectory(of: path)
        closeDescriptor(descriptor)
        descriptor = open(path, O_WRONLY | O_APPEND | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw JournalError.system("cannot reopen \(path)") }
        var compacted = OutboxState()
        compacted.apply(.enqueue(live))
        // The same versions, so claims made before the compaction still settle.
        for entry in live { compacted.setVersion(entry.version, forKey: entry.key) }
        compacted.lastVersion = state.lastVersion
        compacted.leases = state.leases
        state = compacted
        journalBytes = data.count
        enqueuedBytes = data.count
        enqueuedEntries = live.count
        markDurable()
    }
}
