import Foundation
import SalesforceResilienceTesting

/// The PaymentService executable, started as a separate process (its standard error read line
/// by line as it arrives, so a test waits for a log line instead of sleeping).
enum ServiceProcess {
    /// The built executable, beside the test bundle.
    static let binary = ChildProcess.builtExecutable(named: "PaymentService")

    static func launch(_ arguments: [String], environment: [String: String] = [:]) throws -> ChildProcess {
        try ChildProcess(binary, arguments: arguments, environment: environment)
    }
}
