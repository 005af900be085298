import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The file operations of every file this package owns (the outbox journal, the credential
/// file, the replay store): POSIX by default, replaceable in tests to make a write fail part-way
/// (a full disk, a file-size limit).
package struct JournalIO: Sendable {
    /// `write(2)`.
    package var write: @Sendable (Int32, UnsafeRawBufferPointer) -> Int
    /// `fsync(2)`.
    package var fsync: @Sendable (Int32) -> Int32

    /// Operations with these two calls.
    package init(write: @escaping @Sendable (Int32, UnsafeRawBufferPointer) -> Int, fsync: @escaping @Sendable (Int32) -> Int32) {
        self.write = write
        self.fsync = fsync
    }

    /// The real thing.
    package static let posix = JournalIO(write: posixWrite, fsync: posixFsync)

    /// Replaces the file at `path` with `data` so that a reader, or a process killed mid-write,
    /// sees the old content or the new, never a torn file: written to `<path>.tmp` (created with
    /// `permissions`), `fsync`ed, renamed over `path`, and the directory `fsync`ed. On failure
    /// `path` is untouched and the temporary file removed.
    ///
    /// - Throws: a description of the step that failed, with its `errno`.
    package func replaceFile(_ path: String, with data: Data, permissions: mode_t) throws(FileReplaceError) {
        let temporary = path + ".tmp"
        let file = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, permissions)
        guard file >= 0 else { throw FileReplaceError(description: "cannot create \(temporary): \(FileLock.describe(errno))") }
        fchmod(file, permissions)
        do {
            try writeAll(file, data)
            guard fsync(file) == 0 else { throw FileReplaceError(description: "fsync \(temporary): \(FileLock.describe(errno))") }
        } catch {
            closeDescriptor(file)
            unlink(temporary)
            throw error as? FileReplaceError ?? FileReplaceError(description: "cannot write \(temporary): \(error)")
        }
        closeDescriptor(file)
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw FileReplaceError(description: "cannot rename \(temporary) to \(path): \(FileLock.describe(code))")
        }
        Self.syncDirectory(of: path)
    }

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
    package static func syncDirectory(of path: String) {
        let directory = (path as NSString).deletingLastPathComponent
        let descriptor = open(directory.isEmpty ? "." : directory, O_RDONLY | O_CLOEXEC)
        if descriptor >= 0 {
            _ = posixFsync(descriptor)
            closeDescriptor(descriptor)
        }
    }
}

/// A file that ``JournalIO/replaceFile(_:with:permissions:)`` could not replace; the old one stands.
package struct FileReplaceError: Error, CustomStringConvertible {
    /// What failed, with the system's reason.
    package var description: String
}

// At file scope the names below are the C library's, not the members' above.
private func posixWrite(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> Int { write(descriptor, bytes.baseAddress, bytes.count) }
private func posixFsync(_ descriptor: Int32) -> Int32 { fsync(descriptor) }

/// Closes a file descriptor (`close(2)`), for types that have a `close()` of their own.
func closeDescriptor(_ descriptor: Int32) { _ = close(descriptor) }
