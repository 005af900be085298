import ArgumentParser
import Foundation
import Logging
import PaymentServiceKit
import SalesforceResiliencePubSub
#if EmbeddedSimulator
import PaymentServiceSimulator

/// The org the service posts to without `--instance-url`.
let embeddedOrg: EmbeddedOrgFactory? = ServedSimulator.embedded
/// The event bus the `events` command reads without `--instance-url`.
let embeddedBus: EmbeddedEventBusFactory? = ServedEventBus.embedded
/// The subcommands of this build.
let subcommands: [any ParsableCommand.Type] = [Run.self, Events.self, Mode.self, Simulate.self]
#else
/// Built without the EmbeddedSimulator trait: no embedded org, no `simulator` command.
let embeddedOrg: EmbeddedOrgFactory? = nil
/// Built without the EmbeddedSimulator trait: no embedded event bus.
let embeddedBus: EmbeddedEventBusFactory? = nil
/// The subcommands of this build.
let subcommands: [any ParsableCommand.Type] = [Run.self, Events.self, Mode.self]
#endif

@main
struct PaymentServiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "PaymentService",
        abstract: "Post payments to Salesforce through a durable outbox, as a service.",
        subcommands: subcommands,
        defaultSubcommand: Run.self)
}

/// The service itself (the default subcommand).
struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Post the job's payments (the default).",
        discussion: """
        Without --instance-url it serves an embedded Salesforce simulator over loopback HTTP, with a \
        503 storm and lost answers in real time, and posts to it. With it, credentials come from \
        SF_ACCESS_TOKEN, or SF_CLIENT_ID and SF_CLIENT_SECRET. With --postgres-url, the outbox, the \
        token and the fleet's settings live in PostgreSQL, shared by every service pointed at it. \
        SIGTERM or SIGINT finish the batch in flight, stop, print the summary and exit 0.
        """)

    @Option(help: "Payments in the job.") var count = 2_000
    @Option(help: "Payments arriving per second.") var rate = 50
    @Option(help: "The sObject.") var sobject = "Payment__c"
    @Option(name: .customLong("external-id-field"), help: "The external id field.") var externalIdField = "Reference__c"
    @Option(help: "The job's name in a shared outbox: services with one name enqueue its payments once between them.") var job = "payments"
    @Flag(name: .customLong("exit-when-done"), help: "Stop once every payment is delivered.") var exitWhenDone = false
    @OptionGroup var service: ServiceArguments

    func validate() throws {
        guard count > 0, rate > 0 else { throw ValidationError("--count and --rate must be positive") }
        try service.validate()
    }

    func run() async throws {
        var options = service.bootstrap()
        options.count = count
        options.rate = rate
        options.sobject = sobject
        options.externalIdField = externalIdField
        options.job = job
        options.exitWhenDone = exitWhenDone
        let app = PaymentServiceApp(options: options, embeddedOrg: embeddedOrg, logger: Logger(label: "payment-service"))
        let summary = try await app.run()
        print(summary.json)
    }
}

/// The options `run` and `events` share: where the outbox lives, the org, the status server,
/// the batch timeout and the logs.
struct ServiceArguments: ParsableArguments {
    @Option(help: "The outbox journal (without --postgres-url).") var journal = "paymentservice.journal"
    @Option(name: .customLong("postgres-url"), help: "PostgreSQL for the outbox, the token, the replay id and the fleet's mode (postgres://user@host:port/db).")
    var postgresURL: String?
    @Option(help: "Drainers in this process.") var workers = 1
    @Option(name: .customLong("instance-url"), help: "The org (https); without it, an embedded simulator.") var instanceURL: String?
    @Flag(name: .customLong("allow-http-loopback"), help: "Accept an http instance URL on 127.0.0.1.") var allowHTTPLoopback = false
    @Option(help: "The embedded simulator's fault seed.") var seed: UInt64 = 42
    @Option(name: .customLong("metrics-port"), help: "Serve /metrics, /health and /ready on this port (0: any free port).") var metricsPort: Int?
    @Option(name: .customLong("batch-timeout"), help: "Seconds one batch may take, retries included; shutdown waits at most this long.")
    var batchTimeout = 30
    @Option(name: .customLong("log-format"), help: "text or json.") var logFormat = "text"
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.") var logLevel = "info"

    func validate() throws {
        guard batchTimeout > 0 else { throw ValidationError("--batch-timeout must be positive") }
        guard (1...64).contains(workers) else { throw ValidationError("--workers is 1 to 64, not \(workers)") }
        guard ["text", "json"].contains(logFormat) else { throw ValidationError("--log-format is text or json, not \(logFormat)") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level \(logLevel) is not a level") }
        if let instanceURL, URL(string: instanceURL)?.host == nil { throw ValidationError("--instance-url \(instanceURL) is not a URL") }
    }

    /// Starts the logs and returns the options these arguments set.
    func bootstrap() -> ServiceOptions {
        bootstrapLogging(format: logFormat, level: Logger.Level(rawValue: logLevel) ?? .info)
        var options = ServiceOptions()
        options.journal = journal
        options.postgresURL = postgresURL
        options.workers = workers
        options.instanceURL = instanceURL.flatMap(URL.init(string:))
        options.allowHTTPLoopback = allowHTTPLoopback
        options.seed = seed
        options.metricsPort = metricsPort
        options.batchTimeout = .seconds(batchTimeout)
        return options
    }
}

/// Payment requests in as platform events, results out through the outbox.
struct Events: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Work the payment requests of a platform-event topic and write each result back through the outbox.",
        discussion: """
        Subscribes to the topic over the Pub/Sub API (gRPC), works each request, enqueues its result \
        durably (an upsert of --result-sobject by the event's id in --event-id-field), then stores \
        the event's replay id; the outbox sends the results. After a crash it resumes after the last \
        event stored, and a redelivered event updates its result instead of adding one. Without \
        --instance-url it serves an embedded org and an embedded event bus that publishes --count \
        requests at --rate a second. With --postgres-url the replay id is kept in PostgreSQL beside \
        the outbox, else in --replay-file. SIGTERM or SIGINT close the subscription, let the batch in \
        flight finish, print the summary and exit 0.
        """)

    @Option(help: "The topic.") var topic = "/event/Payment_Requested__e"
    @Option(name: .customLong("result-sobject"), help: "The sObject results are written to.") var resultSObject = "Payment_Result__c"
    @Option(name: .customLong("event-id-field"), help: "The result's external id field (the event's EventUuid).") var eventIdField = "Event_Id__c"
    @Option(name: .customLong("pubsub-endpoint"), help: "The Pub/Sub API, host:port (default api.pubsub.salesforce.com:7443 with --instance-url).")
    var pubsubEndpoint: String?
    @Flag(name: .customLong("pubsub-plaintext"), help: "Plaintext HTTP/2 to the endpoint (a local simulator only).") var pubsubPlaintext = false
    @Option(name: .customLong("tenant-id"), help: "The org id (default: from the token's identity URL).") var tenantID: String?
    @Option(name: .customLong("replay-file"), help: "The last replay id handled (without --postgres-url).") var replayFile = "paymentservice.replay"
    @Option(name: .customLong("batch-size"), help: "Events asked for at a time (1 to 100).") var batchSize = 100
    @Option(name: .customLong("silence-window"), help: "Seconds a silent stream lives before it is rebuilt.") var silenceWindow = 300
    @Option(help: "Where a topic with no stored replay id starts: earliest or latest.") var start = "earliest"
    @Option(name: .customLong("aged-out"), help: "When the stored replay id has aged out: fail, earliest or latest.") var agedOut = "fail"
    @Option(help: "Requests the embedded bus publishes.") var count = 2_000
    @Option(help: "Requests the embedded bus publishes a second.") var rate = 50
    @Flag(name: .customLong("exit-when-done"), help: "Stop once the embedded bus's every request has its result delivered.")
    var exitWhenDone = false
    @OptionGroup var service: ServiceArguments

    func validate() throws {
        guard count > 0, rate > 0, silenceWindow > 0 else { throw ValidationError("--count, --rate and --silence-window must be positive") }
        try service.validate()
        guard (1...100).contains(batchSize) else { throw ValidationError("--batch-size is 1 to 100, not \(batchSize)") }
        guard Self.preset(start) != nil else { throw ValidationError("--start is earliest or latest, not \(start)") }
        guard Self.policy(agedOut) != nil else { throw ValidationError("--aged-out is fail, earliest or latest, not \(agedOut)") }
        if let pubsubEndpoint, EventOptions.hostAndPort(pubsubEndpoint) == nil { throw ValidationError("--pubsub-endpoint \(pubsubEndpoint) is not host:port") }
        if exitWhenDone, service.instanceURL != nil || pubsubEndpoint != nil {
            throw ValidationError("--exit-when-done needs the embedded event bus: a real topic never ends")
        }
    }

    static func preset(_ text: String) -> ReplayPreset? {
        switch text {
        case "earliest": .earliest
        case "latest": .latest
        default: nil
        }
    }

    static func policy(_ text: String) -> AgedOutReplayPolicy? {
        switch text {
        case "fail": .fail
        case "earliest": .resumeFromEarliest
        case "latest": .resumeFromLatest
        default: nil
        }
    }

    func run() async throws {
        var options = service.bootstrap()
        options.count = count
        options.rate = rate
        options.exitWhenDone = exitWhenDone
        var events = EventOptions()
        events.topic = topic
        events.resultSObject = resultSObject
        events.eventIdField = eventIdField
        events.endpoint = pubsubEndpoint
        events.plaintext = pubsubPlaintext
        events.tenantID = tenantID
        events.replayFile = replayFile
        events.batchSize = batchSize
        events.silenceWindow = .seconds(silenceWindow)
        events.startWithoutCheckpoint = Self.preset(start) ?? .earliest
        events.agedOutReplay = Self.policy(agedOut) ?? .fail
        options.events = events
        let app = PaymentServiceApp(options: options, embeddedOrg: embeddedOrg, embeddedBus: embeddedBus, logger: Logger(label: "payment-service"))
        print(try await app.runEvents().json)
    }
}

/// The fleet's operating mode, in PostgreSQL: every service pointed at it follows within seconds.
struct Mode: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show or set the operating mode every service of the fleet follows.",
        subcommands: [Set.self, Show.self])

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set the fleet's mode: normal, criticalOnly, fallback or paused.",
            discussion: "No deploy and no restart: every running service takes it within a few seconds.")
        @Argument(help: "normal, criticalOnly, fallback or paused.") var mode: String
        @Option(name: .customLong("postgres-url"), help: "The fleet's PostgreSQL.") var postgresURL: String

        func run() async throws {
            bootstrapLogging(format: "text", level: .warning)
            let set = try await FleetMode.set(mode, postgresURL: postgresURL)
            print("the fleet's mode is \(set)")
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the fleet's mode and the breakers it holds open.")
        @Option(name: .customLong("postgres-url"), help: "The fleet's PostgreSQL.") var postgresURL: String

        func run() async throws {
            bootstrapLogging(format: "text", level: .warning)
            print(try await FleetMode.show(postgresURL: postgresURL))
        }
    }
}

#if EmbeddedSimulator
/// A Salesforce simulator served over loopback HTTP, for a fleet to post to.
struct Simulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulator",
        abstract: "Serve a Salesforce simulator over loopback HTTP, with an incident, for services to post to.",
        discussion: """
        Prints its URL on standard error, and on SIGTERM or SIGINT one JSON line on standard output \
        with what it holds: payments once, more than once, token requests.
        """)
    @Option(help: "The port (0: any free one).") var port = 0
    @Option(name: .customLong("storm-from"), help: "Seconds after the start when a 503 storm begins.") var stormFrom = 10
    @Option(name: .customLong("storm-for"), help: "Seconds the storm lasts (0: none).") var stormFor = 20
    @Option(name: .customLong("lost-answers"), help: "The share of answers lost after commit.") var lostAnswers = 0.05
    @Option(help: "The fault seed.") var seed: UInt64 = 42
    @Option(help: "Milliseconds every call takes.") var latency = 0

    func run() async throws {
        bootstrapLogging(format: "text", level: .info)
        let served = try ServedSimulator(port: port, stormFrom: .seconds(stormFrom), stormFor: .seconds(stormFor), lostAnswers: lostAnswers,
                                         seed: seed, latency: .milliseconds(latency))
        FileHandle.standardError.write(Data("simulator listening at \(served.url.absoluteString)\n".utf8))
        let summary = await served.runUntilSignalled()
        print(summary)
    }
}
#endif

func bootstrapLogging(format: String, level: Logger.Level) {
    let json = format == "json"
    LoggingSystem.bootstrap { label in
        if json { return JSONLogHandler(label: label, level: level) }
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = level
        return handler
    }
}
