#if PubSub // the package trait that brings this module
import Foundation
import SalesforceResilience

/// Checkpoints in a file: every topic's in one checksummed JSON line after a format line,
/// replaced whole on each save (written beside it, `fsync`ed, renamed over it), so a crash
/// leaves the old checkpoints or the new, never a torn file. A file that is not a replay store,
/// of a newer format or failing its checksum is refused and never overwritten.
///
/// One process per file: for a fleet, keep checkpoints in the database the fleet shares.
/// Each save costs an `fsync` and a rename (a few milliseconds on a disk). A store reads its
/// file once, when first asked, and then keeps what it holds: it assumes it is the file's only
/// writer. To watch a file another store writes (a monitor, a test), open a new store for
/// each look.
///
/// ```
/// {"format":"SalesforceResilience.Replay","version":1}
/// {"/event/Payment_Requested__e":{"recentEventIDs":[…],"replayID":"AAAAAAAbXK0=","savedAt":1765094400000}}<TAB>5e0c1a7f
/// ```
public actor FileReplayStore: ReplayStore {
    /// The file.
    public nonisolated let path: String
    private let io: JournalIO
    private var checkpoints: [String: ReplayCheckpoint]?

    static let header = Data(#"{"format":"SalesforceResilience.Replay","version":1}"#.utf8) + Data([0x0A])
    /// A replay store holds a few lines per topic; a bigger file is not one.
    static let maximumSize = 16 * 1024 * 1024

    /// Creates a store at `path`. Nothing is read or created until it is used.
    public init(path: String) {
        self.init(path: path, io: .posix)
    }

    init(path: String, io: JournalIO) {
        self.path = path
        self.io = io
    }

    /// The checkpoint of `topic`.
    ///
    /// - Throws: ``ReplayStoreError`` for a file that cannot be read or is not a replay store.
    public func checkpoint(for topic: String) throws -> ReplayCheckpoint? {
        try loaded()[topic]
    }

    /// Saves `checkpoint` for `topic`; when it returns the file holds it.
    ///
    /// - Throws: ``ReplayStoreError``; the file and what this store reports keep the checkpoint
    ///   saved before.
    public func save(_ checkpoint: ReplayCheckpoint, for topic: String) throws {
        var next = try loaded()
        next[topic] = checkpoint
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .millisecondsSince1970
        let json: Data
        do { json = try encoder.encode(next) } catch { throw ReplayStoreError.writeFailed(path: path, reason: String(describing: error)) }
        do { try io.replaceFile(path, with: Self.header + ChecksummedLine.encode(json), permissions: 0o600) } catch {
            throw ReplayStoreError.writeFailed(path: path, reason: error.description)
        }
        checkpoints = next
    }

    private func loaded() throws -> [String: ReplayCheckpoint] {
        if let checkpoints { return checkpoints }
        let read = try Self.read(path)
        checkpoints = read
        return read
    }

    static func read(_ path: String) throws -> [String: ReplayCheckpoint] {
        guard FileManager.default.fileExists(atPath: path) else { return [:] }
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        if let size = attributes?[.size] as? Int, size > maximumSize { throw ReplayStoreError.notAReplayStore(path: path, reason: "\(size) bytes") }
        guard let data = FileManager.default.contents(atPath: path) else { throw ReplayStoreError.unreadable(path: path) }
        if data.isEmpty { return [:] }
        guard data.starts(with: header) else {
            if data.starts(with: Data(#"{"format":"SalesforceResilience.Replay""#.utf8)) {
                throw ReplayStoreError.notAReplayStore(path: path, reason: "a format version this library does not read")
            }
            throw ReplayStoreError.notAReplayStore(path: path, reason: "no replay store header")
        }
        var line = data.dropFirst(header.count)
        guard line.last == 0x0A else { throw ReplayStoreError.notAReplayStore(path: path, reason: "the checkpoint line is incomplete") }
        line = line.dropLast()
        guard let json = ChecksummedLine.decode(line) else { throw ReplayStoreError.notAReplayStore(path: path, reason: "the checkpoint line fails its checksum") }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        do { return try decoder.decode([String: ReplayCheckpoint].self, from: Data(json)) } catch {
            throw ReplayStoreError.notAReplayStore(path: path, reason: "the checkpoints do not decode: \(error)")
        }
    }
}

/// A replay store that cannot be read or written.
public enum ReplayStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file exists but cannot be read.
    case unreadable(path: String)
    /// The file is not a replay store this library wrote (or fails its checksum); it is left alone.
    case notAReplayStore(path: String, reason: String)
    /// A save did not reach the disk (full disk, permissions); the previous checkpoint stands.
    case writeFailed(path: String, reason: String)

    /// A one-line explanation.
    public var description: String {
        switch self {
        case .unreadable(let path): "replay store \(path) cannot be read"
        case .notAReplayStore(let path, let reason): "\(path) is not a replay store (\(reason)); it was left as it is"
        case .writeFailed(let path, let reason): "replay store \(path) was not saved: \(reason)"
        }
    }
}
#endif
