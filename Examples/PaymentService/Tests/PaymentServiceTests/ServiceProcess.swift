import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The PaymentService executable started as a separate process, its standard error read line by
/// line as it arrives, so a test can wait for a log line instead of sleeping.
final class ServiceProcess: Sendable {
    /// The built executable, beside the test bundle.
    static var binary: URL {
        #if os(macOS)
        if let bundle = Bundle.allBundles.first(where: { $0.bundlePath.hasSuffix(".xctest") }) {
            return bundle.bundleURL.deletingLastPathComponent().appendingPathComponent("PaymentService")
        }
        #endif
        return Bundle.main.bundleURL.appendingPathComponent("PaymentService")
    }

    let process: Process
    /// Every line written to standard error so far, and a stream of them as they come.
    let lines: AsyncStream<String>
    private let collected = Lines()

    final class Lines: Sendable {
        let all = Mutex<[String]>([])
        let pending = Mutex(Data())
    }
    private let output = Pipe()
    private let exited: AsyncStream<Int32>

    init(_ arguments: [String], environment: [String: String] = [:]) throws {
        process = Process()
        process.executableURL = Self.binary
        process.arguments = arguments
        process.environment = environment.merging(["PATH": "/usr/bin:/bin"]) { $1 }
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = output
        let (lines, continuation) = AsyncStream<String>.makeStream()
        self.lines = lines
        errors.fileHandleForReading.readabilityHandler = { [collected] handle in
            let chunk = handle.availableData
            if chunk.isEmpty {
                handle.readabilityHandler = nil
                continuation.finish()
                return
            }
            let complete: [String] = collected.pending.withLock { buffer in
                buffer.append(chunk)
                var found: [String] = []
                while let newline = buffer.firstIndex(of: 0x0A) {
                    found.append(String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self))
                    buffer.removeSubrange(buffer.startIndex...newline)
                }
                return found
            }
            collected.all.withLock { $0 += complete }
            for line in complete { continuation.yield(line) }
        }
        let (exits, exit) = AsyncStream<Int32>.makeStream()
        exited = exits
        process.terminationHandler = { finished in
            exit.yield(finished.terminationStatus)
            exit.finish()
        }
        try process.run()
    }

    /// Every standard-error line so far.
    var log: [String] { collected.all.withLock { $0 } }

    /// Waits for the first line containing `text` and returns it; `nil` if the process ends first.
    func waitForLine(containing text: String) async -> String? {
        if let line = log.first(where: { $0.contains(text) }) { return line }
        for await line in lines where line.contains(text) { return line }
        return log.first { $0.contains(text) }
    }

    /// Sends `signal`.
    func send(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// Waits for the exit status; kills the process if the waiting task is cancelled.
    func exitStatus() async -> Int32 {
        let pid = process.processIdentifier
        return await withTaskCancellationHandler { await exited.first { _ in true } ?? -1 } onCancel: { kill(pid, SIGKILL) }
    }

    /// What it printed on standard output (read once it has exited).
    func standardOutput() -> String {
        String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }
}
