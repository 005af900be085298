import Foundation
import SalesforceResilience
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A program of yours started as a separate process in a test, to kill it mid-flight (SIGKILL)
/// or run several at once against one store: what in-process tests cannot show.
///
/// Standard error is read line by line as it arrives, so a test waits for a line rather than
/// sleeping; standard output is kept whole. The child gets the sanitizer options of the test
/// process (a child built with AddressSanitizer must not report libcurl's leaks as its own
/// failure), a minimal `PATH`, `/dev/null` as standard input, and no other descriptor of the
/// test process. A task waiting in ``exitStatus()`` that is cancelled (a test's time limit)
/// kills the child.
///
/// The child is started with `posix_spawn`, and its pipes and exit are watched by threads of
/// its own with blocking calls, not by dispatch sources: Foundation's `Process` and
/// `FileHandle.readabilityHandler` share libdispatch's event loop with URLSession, and in a test
/// process that does both at once the loop now and then lost a pipe's end (the test hung) or
/// crashed.
public final class ChildProcess: Sendable {
    /// The executable named `name` in the build folder beside the running test bundle (SwiftPM
    /// builds a test target's executable dependencies there).
    public static func builtExecutable(named name: String) -> URL {
        #if os(macOS)
        if let bundle = Bundle.allBundles.first(where: { $0.bundlePath.hasSuffix(".xctest") }) {
            return bundle.bundleURL.deletingLastPathComponent().appendingPathComponent(name)
        }
        #endif
        return Bundle.main.bundleURL.appendingPathComponent(name)
    }

    /// The sanitizer settings of this process, passed on to children.
    static let inheritedVariables = ["ASAN_OPTIONS", "TSAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"]

    /// The process id.
    public let processIdentifier: Int32
    private let collected = Output()
    private let exited = Outcome<Int32>()
    private let outputClosed = Outcome<Void>()
    private let errorClosed = Outcome<Void>()
    private let lineStream: AsyncStream<String>

    private final class Output: Sendable {
        let lines = Lock<[String]>([])
        let pendingError = Lock(Data())
        let standardOutput = Lock(Data())
    }

    /// Why a child could not be started.
    public struct SpawnError: Error, CustomStringConvertible {
        /// What failed, with the system's words.
        public var description: String
    }

    /// Starts `executable` with `arguments` and `environment` (plus the inherited sanitizer
    /// settings and, unless `environment` has one, `PATH=/usr/bin:/bin`).
    public init(_ executable: URL, arguments: [String], environment: [String: String] = [:]) throws {
        let inherited = ProcessInfo.processInfo.environment.filter { Self.inheritedVariables.contains($0.key) }
        let merged = inherited.merging(environment.merging(["PATH": "/usr/bin:/bin"]) { given, _ in given }) { $1 }
        let output = try Self.makePipe()
        let errors = try Self.makePipe()
        var pid: pid_t = 0
        let spawned: Int32 = try Self.withFileActions(standardOutput: output.write, standardError: errors.write) { actions in
            let argv = ([executable.path] + arguments).map { strdup($0) } + [nil]
            let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
            defer {
                for pointer in argv { free(pointer) }
                for pointer in envp { free(pointer) }
            }
            return posix_spawn(&pid, executable.path, &actions, nil, argv, envp)
        }
        close(output.write)
        close(errors.write)
        guard spawned == 0 else {
            close(output.read)
            close(errors.read)
            throw SpawnError(description: "cannot start \(executable.path): \(String(cString: strerror(spawned)))")
        }
        let child = pid
        processIdentifier = child
        let (lines, continuation) = AsyncStream<String>.makeStream()
        lineStream = lines
        Self.readUntilEnd(errors.read, name: "stderr \(child)", then: errorClosed) { [collected] chunk in
            let complete: [String] = collected.pendingError.withLock { buffer in
                buffer.append(chunk)
                var found: [String] = []
                while let newline = buffer.firstIndex(of: 0x0A) {
                    found.append(String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self))
                    buffer.removeSubrange(buffer.startIndex...newline)
                }
                return found
            }
            collected.lines.withLock { $0 += complete }
            for line in complete { continuation.yield(line) }
        } atEnd: {
            continuation.finish()
        }
        Self.readUntilEnd(output.read, name: "stdout \(child)", then: outputClosed) { [collected] chunk in
            collected.standardOutput.withLock { $0.append(chunk) }
        } atEnd: {}
        let exited = self.exited
        let waiter = Thread {
            var status: Int32 = 0
            while waitpid(child, &status, 0) < 0 && errno == EINTR {}
            let signal = status & 0x7f
            exited.settle(signal == 0 ? (status >> 8) & 0xff : signal)
        }
        waiter.name = "ChildProcess wait \(child)"
        waiter.start()
    }

    /// Every standard-error line so far.
    public var errorLines: [String] { collected.lines.withLock { $0 } }

    /// Standard output so far (all of it once ``exitStatus()`` has returned).
    public var standardOutput: String { String(decoding: collected.standardOutput.withLock { $0 }, as: UTF8.self) }

    /// Whether the process is still running.
    public var isRunning: Bool { !exited.isSettled }

    /// Waits for the first standard-error line containing `text`; `nil` if the process ends first.
    public func waitForLine(containing text: String) async -> String? {
        if let line = errorLines.first(where: { $0.contains(text) }) { return line }
        for await line in lineStream where line.contains(text) { return line }
        return errorLines.first { $0.contains(text) }
    }

    /// Sends `signal` (`SIGKILL`, `SIGTERM`…).
    public func send(_ signal: Int32) { kill(processIdentifier, signal) }

    /// Waits for the exit status (the signal number for a process killed by one) and for its
    /// standard output and error to be read to the end; kills the process if the waiting task is
    /// cancelled (a test's time limit) and then returns -1 at once, so a test that overruns fails
    /// instead of hanging the whole run.
    public func exitStatus() async -> Int32 {
        let pid = processIdentifier
        return await withTaskCancellationHandler {
            guard let status = await exited.value() else { return -1 }
            _ = await outputClosed.value()
            _ = await errorClosed.value()
            return status
        } onCancel: { kill(pid, SIGKILL) }
    }

    // MARK: - Spawning

    private static func makePipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw SpawnError(description: "pipe: \(String(cString: strerror(errno)))") }
        // Not inherited by children that other threads spawn meanwhile.
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return (fds[0], fds[1])
    }

    #if os(Linux)
    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later), looked up at run time:
    /// Swift's Glibc module does not declare it.
    private static let addCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()
    #endif

    /// File actions that give the child `/dev/null` as input, the two pipes as output and error,
    /// and close everything else.
    private static func withFileActions<T>(standardOutput: Int32, standardError: Int32,
                                           _ body: (inout posix_spawn_file_actions_t) throws -> T) throws -> T {
        #if os(Linux)
        var actions = posix_spawn_file_actions_t()
        #else
        var actions: posix_spawn_file_actions_t?
        #endif
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, standardOutput, 1)
        posix_spawn_file_actions_adddup2(&actions, standardError, 2)
        #if os(Linux)
        if let addCloseFrom {
            _ = addCloseFrom(&actions, 3)
        } else {
            // An older glibc: close what this process has open now.
            let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd"))?.compactMap(Int32.init) ?? []
            for fd in open where fd > 2 { posix_spawn_file_actions_addclose(&actions, fd) }
        }
        #endif
        return try body(&actions)
    }

    /// Reads `fd` on a thread of its own until the end, hands each chunk to `chunk`, closes it.
    private static func readUntilEnd(_ fd: Int32, name: String, then closed: Outcome<Void>,
                                     _ chunk: @escaping @Sendable (Data) -> Void, atEnd: @escaping @Sendable () -> Void) {
        let reader = Thread {
            var buffer = [UInt8](repeating: 0, count: 16_384)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count > 0 {
                    chunk(Data(buffer[0..<count]))
                } else if count < 0 && errno == EINTR {
                    continue
                } else {
                    break
                }
            }
            close(fd)
            atEnd()
            closed.settle(())
        }
        reader.name = "ChildProcess \(name)"
        reader.start()
    }

    /// A value that arrives once, for any number of waiters, before or after it arrives. A
    /// waiter whose task is cancelled gets `nil` at once.
    private final class Outcome<Value: Sendable>: Sendable {
        private struct State {
            var value: Value?
            var waiters: [Int: CheckedContinuation<Value?, Never>] = [:]
            var nextWaiter = 0
        }

        private let state = Lock(State())

        var isSettled: Bool { state.withLock { $0.value != nil } }

        func settle(_ value: Value) {
            let waiters = state.withLock { state in
                guard state.value == nil else { return [CheckedContinuation<Value?, Never>]() }
                state.value = value
                defer { state.waiters = [:] }
                return Array(state.waiters.values)
            }
            for waiter in waiters { waiter.resume(returning: value) }
        }

        func value() async -> Value? {
            let id = state.withLock { state in
                defer { state.nextWaiter += 1 }
                return state.nextWaiter
            }
            return await withTaskCancellationHandler {
                await withCheckedContinuation { continuation in
                    let ready: Value?? = state.withLock { state in
                        if let value = state.value { return .some(value) }
                        if Task.isCancelled { return .some(nil) }
                        state.waiters[id] = continuation
                        return nil
                    }
                    if let ready { continuation.resume(returning: ready) }
                }
            } onCancel: {
                let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
                waiter?.resume(returning: nil)
            }
        }
    }
}
