import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive `flock(2)` on a lock file beside a file we own. The lock lives as long as the
/// descriptor: until ``release(_:)``, or the end of the process, however it ends.
enum FileLock {
    /// What one try found.
    enum Attempt {
        /// The lock is held through this descriptor.
        case acquired(Int32)
        /// Another holder (this process or another) has it.
        case busy
        /// The lock file could not be opened or locked: `errno`.
        case failed(Int32)
    }

    /// Opens (creating it owner-only, close-on-exec so a child process does not inherit the
    /// lock) the lock file at `path` and tries once to lock it.
    static func tryAcquire(_ path: String) -> Attempt {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return .failed(errno) }
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            _ = close(descriptor)
            return code == EWOULDBLOCK ? .busy : .failed(code)
        }
        return .acquired(descriptor)
    }

    /// Tries until the lock is had or `timeout` has passed on `clock`, every 5 ms.
    static func acquire(_ path: String, timeout: Duration, clock: any ResilienceClock) async throws(FileLockError) -> Int32 {
        let deadline = clock.now + timeout
        while true {
            switch tryAcquire(path) {
            case .acquired(let descriptor): return descriptor
            case .failed(let code): throw .failed(path: path, code: code)
            case .busy:
                guard clock.now < deadline else { throw .timedOut(path: path, timeout: timeout) }
                do { try await clock.sleep(for: .milliseconds(5)) } catch { throw .cancelled }
            }
        }
    }

    /// Releases a lock.
    static func release(_ descriptor: Int32) { _ = close(descriptor) }

    /// `strerror` and the number, for messages.
    static func describe(_ code: Int32) -> String { "\(String(cString: strerror(code))) (errno \(code))" }
}

/// Why ``FileLock/acquire(_:timeout:clock:)`` gave up.
enum FileLockError: Error {
    case failed(path: String, code: Int32)
    case timedOut(path: String, timeout: Duration)
    case cancelled
}
