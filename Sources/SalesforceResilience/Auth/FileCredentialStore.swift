import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The credential shared by every process on one machine: a file, owner-only (`0600`).
///
/// Writes go to `<path>.tmp` and are renamed over the file after `fsync`, so a reader (or a
/// process killed mid-write) sees the old credential or the new one, never a torn file.
/// Compare-and-swap holds `<path>.lock` for the read-compare-write; the refresh lock is
/// `<path>.refresh-lock`, held by one process at a time while it asks the token endpoint and
/// released by the kernel if that process dies. A file that is not a credential store is
/// refused and never changed.
///
/// ```
/// {"format":"SalesforceResilience.Credential","version":1}
/// {"owner":"refresh_token 3MVG9…@login.salesforce.com","revision":7,…}<TAB>9c1d03e2
/// ```
public struct FileCredentialStore: CredentialStore {
    /// The file.
    public let path: String
    private let clock: any ResilienceClock
    private let io: JournalIO

    static let formatName = "SalesforceResilience.Credential"
    static let header = Data(#"{"format":"SalesforceResilience.Credential","version":1}"#.utf8) + Data([0x0A])
    /// Credentials are a few kilobytes; a bigger file is not one.
    static let maximumSize = 64 * 1024

    /// Creates a store at `path`. Nothing is read or created until it is used.
    public init(path: String, clock: any ResilienceClock = SystemClock()) {
        self.init(path: path, clock: clock, io: .posix)
    }

    init(path: String, clock: any ResilienceClock, io: JournalIO) {
        self.path = path
        self.clock = clock
        self.io = io
    }

    /// The stored credential; `nil` for a missing or empty file.
    ///
    /// - Throws: ``CredentialStoreError`` for a file that is not a credential store, is of a
    ///   newer format, or fails its checksum.
    public func load() async throws -> StoredCredential? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 {
            let code = errno
            if code == ENOENT { return nil }
            throw CredentialStoreError(description: "cannot read \(path): \(FileLock.describe(code))", isTransient: true)
        }
        defer { closeDescriptor(descriptor) }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while data.count <= Self.maximumSize {
            let count = read(descriptor, &buffer, buffer.count)
            if count < 0 {
                if errno == EINTR { continue }
                throw CredentialStoreError(description: "cannot read \(path): \(FileLock.describe(errno))", isTransient: true)
            }
            if count == 0 { break }
            data.append(contentsOf: buffer[0..<count])
        }
        return try Self.decode(data, path: path)
    }

    /// Compare-and-swap on the revision, under `<path>.lock`.
    public func replace(expected: UInt64?, with token: AccessToken, owner: String) async throws -> CredentialReplacement {
        let lock = try await acquire(path + ".lock", timeout: .seconds(10))
        defer { FileLock.release(lock) }
        let current = try await load()
        guard current?.revision == expected else { return .superseded(current) }
        let next = StoredCredential(token: token, owner: owner, revision: (expected ?? 0) &+ 1,
                                    storedAt: Self.date(milliseconds: Self.milliseconds(clock.wallClockNow)))
        try write(Self.header + Self.encode(next))
        return .stored(next)
    }

    /// Runs `body` holding `<path>.refresh-lock`.
    public func withRefreshLock<T: Sendable>(timeout: Duration, _ body: @Sendable () async throws -> T) async throws -> T {
        let lock = try await acquire(path + ".refresh-lock", timeout: timeout)
        defer { FileLock.release(lock) }
        return try await body()
    }

    private func acquire(_ lockPath: String, timeout: Duration) async throws -> Int32 {
        do {
            return try await FileLock.acquire(lockPath, timeout: timeout, clock: clock)
        } catch .failed(let path, let code) {
            throw CredentialStoreError(description: "cannot lock \(path): \(FileLock.describe(code))")
        } catch .timedOut(let path, let timeout) {
            throw CredentialStoreError(
                description: "\(path) stayed locked for \(timeout): another process is refreshing the token and has not finished", isTransient: true)
        } catch .cancelled {
            throw CancellationError()
        }
    }

    /// Replaces the file with `data` (``JournalIO/replaceFile(_:with:permissions:)``); on
    /// failure the file is untouched.
    private func write(_ data: Data) throws {
        do { try io.replaceFile(path, with: data, permissions: 0o600) } catch {
            throw CredentialStoreError(description: error.description, isTransient: true)
        }
    }
}
