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
/// failure) and a minimal `PATH`. A task waiting in ``exitStatus()`` that is cancelled (a test's
/// time limit) kills the child.
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
    private let process: Process
    private let collected = Output()
    private let exited = Outcome<Int32>()
    private let outputClosed = Outcome<Void>()
    private let lineStream: AsyncStream<String>

    private final class Output: Sendable {
        let lines = Lock<[String]>([])
        let pendingError = Lock(Data())
        let standardOutput = Lock(Data())
    }

    /// Starts `executable` with `arguments` and `environment` (plus the inherited sanitizer
    /// settings and `PATH=/usr/bin:/bin`).
    public init(_ executable: URL, arguments: [String], environment: [String: String] = [:]) throws {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let inherited = ProcessInfo.processInfo.environment.filter { Self.inheritedVariables.contains($0.key) }
        process.environment = inherited.merging(environment.merging(["PATH": "/usr/bin:/bin"]) { $1 }) { $1 }
        let errors = Pipe()
        let output = Pipe()
        process.standardError = errors
        process.standardOutput = output
        let (lines, continuation) = AsyncStream<String>.makeStream()
        lineStream = lines
        errors.fileHandleForReading.readabilityHandler = { [collected] handle in
            let chunk = handle.availableData
            if chunk.isEmpty {
                handle.readabilityHandler = nil
                continuation.finish()
                return
            }
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
        }
        output.fileHandleForReading.readabilityHandler = { [collected, outputClosed] handle in
            let chunk = handle.availableData
            if chunk.isEmpty {
                handle.readabilityHandler = nil
                outputClosed.settle(())
            } else {
                collected.standardOutput.withLock { $0.append(chunk) }
            }
        }
        process.terminationHandler = { [exited] finished in exited.settle(finished.terminationStatus) }
        try process.run()
        self.process = process
        processIdentifier = process.processIdentifier
    }

    /// Every standard-error line so far.
    public var errorLines: [String] { collected.lines.withLock { $0 } }

    /// Standard output so far (all of it once ``exitStatus()`` has returned).
    public var standardOutput: String { String(decoding: collected.standardOutput.withLock { $0 }, as: UTF8.self) }

    /// Whether the process is still running.
    public var isRunning: Bool { process.isRunning }

    /// Waits for the first standard-error line containing `text`; `nil` if the process ends first.
    public func waitForLine(containing text: String) async -> String? {
        if let line = errorLines.first(where: { $0.contains(text) }) { return line }
        for await line in lineStream where line.contains(text) { return line }
        return errorLines.first { $0.contains(text) }
    }

    /// Sends `signal` (`SIGKILL`, `SIGTERM`…).
    public func send(_ signal: Int32) { kill(processIdentifier, signal) }

    /// Waits for the exit status (the signal number for a process killed by one) and for its
    /// standard output to be read to the end; kills the process if the waiting task is cancelled.
    public func exitStatus() async -> Int32 {
        let pid = processIdentifier
        return await withTaskCancellationHandler {
            let status = await exited.value()
            await outputClosed.value()
            return status
        } onCancel: { kill(pid, SIGKILL) }
    }

    /// A value that arrives once, for any number of waiters, before or after it arrives.
    private final class Outcome<Value: Sendable>: Sendable {
        private let state = Lock<(value: Value?, waiters: [CheckedContinuation<Value, Never>])>((nil, []))

        func settle(_ value: Value) {
            let waiters = state.withLock { state in
                defer { state = (value, []) }
                return state.value == nil ? state.waiters : []
            }
            for waiter in waiters { waiter.resume(returning: value) }
        }

        func value() async -> Value {
            await withCheckedContinuation { continuation in
                let ready = state.withLock { state in
                    if state.value == nil { state.waiters.append(continuation) }
                    return state.value
                }
                if let ready { continuation.resume(returning: ready) }
            }
        }
    }
}
