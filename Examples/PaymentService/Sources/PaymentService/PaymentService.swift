import ArgumentParser
import Foundation
import Logging
import PaymentServiceKit

@main
struct PaymentServiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "PaymentService",
        abstract: "Post payments to Salesforce through a durable outbox, as a service.",
        discussion: """
        Without --instance-url it serves an embedded Salesforce simulator over loopback HTTP, with a \
        503 storm and lost answers in real time, and posts to it. With it, credentials come from \
        SF_ACCESS_TOKEN, or SF_CLIENT_ID and SF_CLIENT_SECRET. SIGTERM or SIGINT finish the batch in \
        flight, stop, print the summary and exit 0.
        """)

    @Option(help: "Payments in the job.") var count = 2_000
    @Option(help: "Payments arriving per second.") var rate = 50
    @Option(help: "The sObject.") var sobject = "Payment__c"
    @Option(name: .customLong("external-id-field"), help: "The external id field.") var externalIdField = "Reference__c"
    @Option(help: "The outbox journal.") var journal = "paymentservice.journal"
    @Option(name: .customLong("instance-url"), help: "The org (https); without it, an embedded simulator.") var instanceURL: String?
    @Flag(name: .customLong("allow-http-loopback"), help: "Accept an http instance URL on 127.0.0.1.") var allowHTTPLoopback = false
    @Option(help: "The embedded simulator's fault seed.") var seed: UInt64 = 42
    @Option(name: .customLong("metrics-port"), help: "Serve /metrics, /health and /ready on this port (0: any free port).") var metricsPort: Int?
    @Option(name: .customLong("batch-timeout"), help: "Seconds one batch may take, retries included; shutdown waits at most this long.")
    var batchTimeout = 30
    @Flag(name: .customLong("exit-when-done"), help: "Stop once every payment is delivered.") var exitWhenDone = false
    @Option(name: .customLong("log-format"), help: "text or json.") var logFormat = "text"
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.") var logLevel = "info"

    func validate() throws {
        guard count > 0, rate > 0, batchTimeout > 0 else { throw ValidationError("--count, --rate and --batch-timeout must be positive") }
        guard ["text", "json"].contains(logFormat) else { throw ValidationError("--log-format is text or json, not \(logFormat)") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level \(logLevel) is not a level") }
        if let instanceURL, URL(string: instanceURL)?.host == nil { throw ValidationError("--instance-url \(instanceURL) is not a URL") }
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        let json = logFormat == "json"
        LoggingSystem.bootstrap { label in
            if json { return JSONLogHandler(label: label, level: level) }
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var options = ServiceOptions()
        options.count = count
        options.rate = rate
        options.sobject = sobject
        options.externalIdField = externalIdField
        options.journal = journal
        options.instanceURL = instanceURL.flatMap(URL.init(string:))
        options.allowHTTPLoopback = allowHTTPLoopback
        options.seed = seed
        options.metricsPort = metricsPort
        options.batchTimeout = .seconds(batchTimeout)
        options.exitWhenDone = exitWhenDone
        let app = PaymentServiceApp(options: options, logger: Logger(label: "payment-service"))
        let summary = try await app.run()
        print(summary.json)
    }
}
