import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The journal's file operations: POSIX by default, replaceable in tests to make a write fail
/// part-way (a full disk, a file-size limit).
struct JournalIO: Sendable {
    /// `write(2)`.
    var write: @Sendable (Int32, UnsafeRawBufferPointer) -> Int
    /// `fsync(2)`.
    var fsync: @Sendable (Int32) -> Int32

    /// The real thing.
    static let posix = JournalIO(write: posixWrite, fsync: posixFsync)

    /// Writes every byte, retrying interrupted and short writes.
    func writeAll(_ descriptor: Int32, _ data: Data) throws {
        try data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = write(descriptor, UnsafeRawBufferPointer(rebasing: raw[offset...]))
                if written < 0 {
                    if errno == EINTR { continue }
                    throw FileJournalOutboxStore.JournalError.system("write failed")
                }
                offset += written
            }
        }
    }

    /// Appends `data` at the end of `descriptor`'s file and `fsync`s it (unless `sync` is
    /// `false`: the caller syncs later); if either fails, the file is cut back to its size
    /// before, so no partial line stays behind to be glued to the next one.
    func appendCuttingBack(_ descriptor: Int32, _ data: Data, path: String, sync: Bool = true) throws {
        let before = lseek(descriptor, 0, SEEK_END)
        guard before >= 0 else { throw FileJournalOutboxStore.JournalError.system("cannot seek in \(path)") }
        do {
            try writeAll(descriptor, data)
            guard !sync || fsync(descriptor) == 0 else { throw FileJournalOutboxStore.JournalError.system("fsync \(path)") }
        } catch {
            _ = ftruncate(descriptor, before)
            _ = lseek(descriptor, 0, SEEK_END)
            throw error
        }
    }

    /// Opens (creating, owner-only) and exclusively locks the lock file at `path`; returns its
    /// descriptor. The lock lives as long as the descriptor: until `close`, or the process's end.
    ///
    /// A lock that is taken is tried again for up to a quarter of a second before the journal is
    /// called busy: a child process being started anywhere in this process (with `posix_spawn`)
    /// holds a copy of every descriptor until it has closed them, so a journal closed and opened
    /// again at that moment looks locked for a few milliseconds.
    static func lock(_ path: String) throws -> Int32 {
        var tries = 0
        while true {
            switch FileLock.tryAcquire(path) {
            case .acquired(let descriptor):
                return descriptor
            case .busy where tries < 50:
                tries += 1
                usleep(5_000)
            case .busy:
                throw FileJournalOutboxStore.JournalError(
                    description: "\(path.dropLast(5)) is open in another store (this process or another); one writer at a time, or the journal would be corrupted")
            case .failed(let code):
                throw FileJournalOutboxStore.JournalError.system("cannot lock \(path)", code)
            }
        }
    }

    /// `fsync`s the directory holding `path`, so a rename in it is durable.
    static func syncDirectory(of path: String) {
        let directory = (path as NSString).deletingLastPathComponent
        let descriptor = open(directory.isEmpty ? "." : directory, O_RDONLY | O_CLOEXEC)
        if descriptor >= 0 {
            _ = posixFsync(descriptor)
            closeDescriptor(descriptor)
        }
    }
}

// At file scope the names below are the C library's, not the members' above.
private func posixWrite(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> Int { write(descriptor, bytes.baseAddress, bytes.count) }
private func posixFsync(_ descriptor: Int32) -> Int32 { fsync(descriptor) }

/// Closes a file descriptor (`close(2)`), for types that have a `close()` of their own.
func closeDescriptor(_ descriptor: Int32) { _ = close(descriptor) }
