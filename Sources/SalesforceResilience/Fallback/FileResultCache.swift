import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A ``ResultCache`` kept in a directory, so the last good results survive a restart — which
/// is when an outage most often finds a process with an empty memory cache.
///
/// - One file per key, named by a hash of the key. The file starts with a one-line JSON header
///   (the key, when it was fetched, the byte count) followed by the data. A file whose header
///   names another key (a hash collision) is a miss; the newer key's store replaces it.
/// - Writes go to a temporary file that is renamed over the old one, so a crash leaves the old
///   entry or the new one, never half of one. A truncated or unreadable file is a miss and is
///   deleted.
/// - A store that cannot be written is dropped: a cache failure never fails the query it serves.
/// - One process per directory: two processes sharing it may evict each other's entries.
/// - Entries are plain text, readable by the owner only (a new directory is `0700`, files
///   `0600`): query results can hold personal data, so choose the directory accordingly.
public actor FileResultCache: ResultCache {
    /// A directory that cannot be used.
    public struct DirectoryError: Error, Sendable, CustomStringConvertible {
        /// What went wrong.
        public var description: String
    }

    /// The directory holding the entries.
    public nonisolated let directory: URL
    /// Entries older than this are not served (and are deleted). Default 24 hours.
    public nonisolated let maxAge: Duration
    /// The most entries kept; the least recently used are deleted first. Default 1,000.
    public nonisolated let maxEntries: Int
    private let clock: any ResilienceClock
    /// File names, least recently used first.
    private var recency: RecencyOrder

    private static let suffix = ".sfcache"

    /// Opens (or creates) the cache in `directory`, indexing the entries already there.
    ///
    /// - Throws: ``DirectoryError`` when the directory cannot be created or listed.
    public init(
        directory: URL, maxAge: Duration = .seconds(86_400), maxEntries: Int = 1_000, clock: any ResilienceClock = SystemClock()
    ) throws {
        self.directory = directory
        self.maxAge = maxAge
        self.maxEntries = max(1, maxEntries)
        self.clock = clock
        let files = FileManager.default
        do {
            try files.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let names = try files.contentsOfDirectory(atPath: directory.path)
            var indexed: [(name: String, storedAt: Date)] = []
            for name in names {
                let url = directory.appendingPathComponent(name)
                if name.hasSuffix(Self.suffix + ".tmp") {  // a write interrupted before its rename
                    try? files.removeItem(at: url)
                } else if name.hasSuffix(Self.suffix) {
                    if let entry = Self.read(url) {
                        indexed.append((name, entry.result.storedAt))
                    } else {
                        try? files.removeItem(at: url)
                    }
                }
            }
            var order = RecencyOrder(indexed.sorted { $0.storedAt < $1.storedAt }.map(\.name))
            for evicted in order.trim(to: self.maxEntries) { try? files.removeItem(at: directory.appendingPathComponent(evicted)) }
            recency = order
        } catch {
            throw DirectoryError(description: "cannot use \(directory.path) as a result cache: \(error)")
        }
    }

    /// See ``ResultCache/value(for:)``.
    public func value(for key: String) -> CachedResult? {
        let name = Self.fileName(for: key)
        guard recency.keys.contains(name) else { return nil }
        let url = directory.appendingPathComponent(name)
        guard let entry = Self.read(url) else {
            forget(name)
            return nil
        }
        guard entry.key == key else { return nil }  // another key with the same hash
        guard entry.result.isUsable(at: clock.wallClockNow, maxAge: maxAge) else {
            forget(name)
            return nil
        }
        recency.touch(name)
        return entry.result
    }

    /// See ``ResultCache/store(_:for:)``.
    public func store(_ result: CachedResult, for key: String) {
        let name = Self.fileName(for: key)
        let header = Header(key: key, storedAt: result.storedAt.timeIntervalSince1970, bytes: result.data.count)
        guard var contents = try? JSONEncoder().encode(header) else { return }
        contents.append(UInt8(ascii: "\n"))
        contents.append(result.data)
        let target = directory.appendingPathComponent(name)
        let temporary = directory.appendingPathComponent(name + ".tmp")
        // Query results can hold personal data: readable by the owner only.
        guard FileManager.default.createFile(atPath: temporary.path, contents: contents, attributes: [.posixPermissions: 0o600]),
              rename(temporary.path, target.path) == 0
        else {
            try? FileManager.default.removeItem(at: temporary)
            return
        }
        recency.touch(name)
        for evicted in recency.trim(to: maxEntries) { try? FileManager.default.removeItem(at: directory.appendingPathComponent(evicted)) }
    }

    /// The number of entries on disk.
    public var count: Int { recency.keys.count }

    // MARK: Files

    struct Header: Codable {
        var key: String
        var storedAt: Double
        var bytes: Int
    }

    /// The file name for `key`: a 64-bit FNV-1a hash, so any key (a SOQL text of any length)
    /// gives a short, safe name.
    static func fileName(for key: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex + suffix
    }

    /// The entry in `url`, or `nil` when the file is missing, truncated or not ours.
    private static func read(_ url: URL) -> (key: String, result: CachedResult)? {
        guard let contents = try? Data(contentsOf: url) else { return nil }
        return decode(contents)
    }

    /// An entry file's contents read, or `nil` when truncated or not ours.
    static func decode(_ contents: Data) -> (key: String, result: CachedResult)? {
        guard let newline = contents.firstIndex(of: UInt8(ascii: "\n")),
              let header = try? JSONDecoder().decode(Header.self, from: contents[..<newline]),
              header.storedAt.isFinite, contents.endIndex - (newline + 1) == header.bytes
        else { return nil }
        let data = Data(contents[(newline + 1)...])
        return (header.key, CachedResult(data: data, storedAt: Date(timeIntervalSince1970: header.storedAt)))
    }

    private func forget(_ name: String) {
        recency.remove(name)
        try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))
    }
}
