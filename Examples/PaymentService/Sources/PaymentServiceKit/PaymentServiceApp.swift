import Foundation
import Logging
import Prometheus
import SalesforceResilience
import SalesforceResilienceAsyncHTTPClient
import SalesforceResilienceObservability
import SalesforceResiliencePubSub
import SalesforceResiliencePubSubGRPC
import ServiceLifecycle
import Synchronization

/// PaymentService: the outbox worker and the status server as a swift-service-lifecycle
/// `ServiceGroup`, over the AsyncHTTPClient transport, with logs, metrics and traces bridged.
///
/// SIGTERM or SIGINT (or ``shutDown()``) lets the batch in flight finish, stops claiming, and
/// ``run()`` returns the summary.
public final class PaymentServiceApp: Sendable {
    /// The options in force.
    public let options: ServiceOptions
    /// The Prometheus registry `/metrics` renders.
    public let registry = PrometheusCollectorRegistry()
    private let environment: [String: String]
    private let embeddedOrg: EmbeddedOrgFactory?
    private let embeddedBus: EmbeddedEventBusFactory?
    private let logger: Logger
    private let statusPort = Mutex<Int?>(nil)
    private let group = Mutex<ServiceGroup?>(nil)

    /// Creates the service; `environment` supplies credentials for a real org (`SF_ACCESS_TOKEN`,
    /// or `SF_CLIENT_ID` and `SF_CLIENT_SECRET`); `embeddedOrg` makes the org posted to when
    /// ``ServiceOptions/instanceURL`` is `nil` (without one, the service needs an instance URL);
    /// `embeddedBus` makes the `events` command's event bus then.
    public init(options: ServiceOptions, environment: [String: String] = ProcessInfo.processInfo.environment,
                embeddedOrg: EmbeddedOrgFactory? = nil, embeddedBus: EmbeddedEventBusFactory? = nil, logger: Logger) {
        self.options = options
        self.environment = environment
        self.embeddedOrg = embeddedOrg
        self.embeddedBus = embeddedBus
        self.logger = logger
    }

    /// The port the status server bound, once it has.
    public var boundStatusPort: Int? { statusPort.withLock { $0 } }

    /// Starts a graceful shutdown, as SIGTERM does.
    public func shutDown() async {
        await group.withLock { $0 }?.triggerGracefulShutdown()
    }

    /// Runs the payment job until a signal, ``shutDown()``, or — with `exitWhenDone` — the job's end.
    public func run() async throws -> ServiceSummary {
        let started = ContinuousClock.now
        let setup = try await setUp()
        defer { setup.wiring.stop() }
        let source: PaymentSource
        do {
            source = try await PaymentSource(options: options, ledger: setup.storage.ledger, clock: setup.wiring.client.clock)
        } catch {
            await setup.close()
            throw error
        }
        let workers = drainers(setup, source: source)
        try await serve(setup, workers: workers, others: [], subscription: nil, starting: [
            "payments": "\(options.count)", "org": "\(setup.wiring.description)", "store": "\(setup.storage.description)",
            "drainers": "\(workers.count)",
        ])
        try await setup.wiring.transport.shutdown()
        // The store's figures, if it answers: with PostgreSQL down or frozen at shutdown the
        // summary says it could not know rather than holding the exit for it.
        let figures = await setup.figures(logger: logger) { try await source.produced() }
        let inOrg = setup.wiring.embedded?.countsByValue(of: options.sobject, field: options.externalIdField)
        let references = (1...options.count).map(ServiceOptions.reference)
        let counts = setup.counters.snapshot
        let summary = ServiceSummary(
            payments: options.count, deliveredThisRun: await setup.delivered(), stillQueued: figures?.queued,
            notYetEnqueued: figures.map { options.count - $0.produced }, deadLettered: figures?.letters,
            landed: inOrg.map { counts in references.filter { counts[$0] == 1 }.count },
            duplicates: inOrg.map { counts in references.filter { (counts[$0] ?? 0) > 1 }.count },
            apiCalls: setup.wiring.requests, retries: counts.retries, breakerOpens: counts.breakerOpens,
            stoppedBy: workers.contains { $0.finishedJob } ? "done" : "signal", elapsedSeconds: Self.seconds(since: started))
        await setup.storage.close()
        return summary
    }

    /// Runs the `events` command (``ServiceOptions/events``): subscribes to the payment-request
    /// topic, works each event and sends its result through the outbox, until a signal,
    /// ``shutDown()``, or — with `exitWhenDone` and the embedded bus — every request's result is
    /// delivered.
    public func runEvents() async throws -> EventsSummary {
        let started = ContinuousClock.now
        let events = options.events ?? EventOptions()
        let setup = try await setUp()
        defer { setup.wiring.stop() }
        let bus: (any EmbeddedEventBus)?
        let connection: GRPCPubSubConnection
        let host: String
        do {
            if events.endpoint == nil, options.instanceURL == nil {
                guard let embeddedBus else { throw ServiceError.noEmbeddedOrg }
                bus = try await embeddedBus(events.topic, options.count, options.rate, options.seed)
            } else {
                bus = nil
            }
            let endpoint = events.endpoint ?? bus?.endpoint ?? "api.pubsub.salesforce.com:7443"
            guard let address = EventOptions.hostAndPort(endpoint) else { throw ServiceError.invalidEndpoint(endpoint) }
            host = address.host
            connection = try GRPCPubSubConnection(configuration: .init(host: address.host, port: address.port, usesTLS: !(events.plaintext || bus != nil),
                                                                       tenantID: events.tenantID))
        } catch {
            await setup.close()
            throw error
        }
        let replay = setup.storage.replayStore(events)
        let telemetry = SubscriptionTelemetry(logger: logger, metrics: setup.metrics)
        let client = setup.wiring.client
        let subscriber = PubSubSubscriber(
            topic: events.topic, connection: connection, tokens: client.tokens, store: replay,
            options: SubscriptionOptions(batchSize: events.batchSize, startWithoutCheckpoint: events.startWithoutCheckpoint,
                                         silenceWindow: events.silenceWindow, agedOutReplay: events.agedOutReplay),
            clock: client.clock, breaker: client.breakers.breaker(for: host), onEvent: telemetry.onEvent)
        let worker = EventWorker(subscriber: subscriber, store: setup.storage.store, options: events, clock: client.clock, logger: logger,
                                 health: setup.health, telemetry: telemetry)
        let drainers = drainers(setup, source: EventSource(bus: bus, replay: replay, topic: events.topic))
        do {
            try await serve(setup, workers: drainers, others: [worker], subscription: (subscriber, telemetry), starting: [
                "topic": "\(events.topic)", "events": "\(bus?.summaryDescription ?? "\(host) (\(events.tenantID ?? "org id from the token"))")",
                "org": "\(setup.wiring.description)", "store": "\(setup.storage.description)", "drainers": "\(drainers.count)",
            ])
        } catch {
            await connection.shutdown()
            await bus?.stop()
            throw error
        }
        await connection.shutdown()
        await bus?.stop()
        try await setup.wiring.transport.shutdown()
        let figures = await setup.figures(logger: logger) { 0 }
        let stored = try? await replay.checkpoint(for: events.topic)
        let status = await subscriber.status
        let inOrg = setup.wiring.embedded?.countsByValue(of: events.resultSObject, field: events.eventIdField)
        let summary = EventsSummary(
            topic: events.topic, published: bus?.published, handledThisRun: worker.handled, duplicatesSkipped: status.duplicatesSkipped,
            resubscribes: status.resubscribes, silentStreamsRebuilt: status.silentStreamsRebuilt, resultsDeliveredThisRun: await setup.delivered(),
            stillQueued: figures?.queued, deadLettered: figures?.letters, resultsInOrg: inOrg?.count,
            duplicates: inOrg.map { counts in counts.values.filter { $0 > 1 }.count },
            storedReplayID: stored.map { $0.replayID.map { String(format: "%02x", $0) }.joined() }, apiCalls: setup.wiring.requests,
            stoppedBy: drainers.contains { $0.finishedJob } ? "done" : "signal", elapsedSeconds: Self.seconds(since: started))
        await setup.storage.close()
        return summary
    }

    /// What both commands set up: the store, the client, the outboxes, the checks.
    private struct Setup {
        let storage: ServiceStorage
        let wiring: ServiceWiring
        let metrics: ResilienceMetrics
        let health: HealthState
        let counters: EventCounters
        let outboxes: [Outbox]

        /// After a failure: shuts the transport down and closes the store.
        func close() async {
            try? await wiring.transport.shutdown()
            await storage.close()
        }

        /// Queued and dead-lettered entries and `produced()`, or `nil` when the store does not
        /// answer or was failing at shutdown.
        func figures(logger: Logger, produced: () async throws -> Int) async -> (queued: Int, letters: Int, produced: Int)? {
            guard !health.isRetrying else {
                logger.warning("the summary's queue figures are unknown: the store was failing at shutdown")
                return nil
            }
            do {
                return (try await storage.store.backlog().count, try await storage.deadLetterCount(), try await produced())
            } catch {
                logger.warning("the summary's queue figures are unknown: the store did not answer", metadata: ["cause": "\(error)"])
                return nil
            }
        }

        /// Entries every outbox delivered.
        func delivered() async -> Int {
            var delivered = 0
            for outbox in outboxes { delivered += await outbox.delivered }
            return delivered
        }
    }

    private func setUp() async throws -> Setup {
        let counters = EventCounters()
        let health = HealthState(stuckAfter: options.claimLease + .seconds(60))
        let metrics = ResilienceMetrics(factory: PrometheusMetricsFactory(registry: registry))
        let storage = try await ServiceStorage.open(options: options, logger: logger)
        let wiring: ServiceWiring
        do {
            wiring = try ServiceWiring(options: options, environment: environment, credentialStore: storage.credentialStore,
                                       embeddedOrg: embeddedOrg, events: .combining([.logging(to: logger), metrics.sink, health.sink, counters.sink]))
        } catch {
            await storage.close()
            throw error
        }
        let outboxOptions = OutboxOptions(claimLease: options.claimLease)
        let outboxes = (0..<max(1, options.workers)).map { _ in Outbox(store: storage.store, client: wiring.client, options: outboxOptions) }
        return Setup(storage: storage, wiring: wiring, metrics: metrics, health: health, counters: counters, outboxes: outboxes)
    }

    /// One drain loop per outbox.
    private func drainers(_ setup: Setup, source: any WorkSource) -> [OutboxWorker] {
        setup.outboxes.enumerated().map { n, outbox in
            OutboxWorker(outbox: outbox, source: source, options: options, logger: setup.outboxes.count > 1 ? logger.with("drainer", "\(n + 1)") : logger,
                         health: setup.health)
        }
    }

    /// Runs the drainers, `others`, the fleet follower and the status server as one group until
    /// it shuts down; a failure is recorded for `/health`, closes the transport and the store,
    /// and is thrown.
    private func serve(_ setup: Setup, workers: [OutboxWorker], others: [any Service], subscription: (PubSubSubscriber, SubscriptionTelemetry)?,
                       starting: Logger.Metadata) async throws {
        var services = (workers as [any Service] + others).map {
            ServiceGroupConfiguration.ServiceConfiguration(
                service: $0, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup)
        }
        if let fleet = setup.storage.fleet {
            services.append(.init(service: FleetFollower(fleet: fleet, client: setup.wiring.client, logger: logger)))
        }
        if let port = options.metricsPort {
            services.append(.init(service: statusServer(port: port, setup: setup, subscription: subscription)))
        }
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        self.group.withLock { $0 = group }
        logger.info("payment service started", metadata: starting)
        do {
            try await group.run()
        } catch {
            setup.health.workerFailed(error)
            await setup.close()
            throw error
        }
    }

    private static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    /// `/metrics`, `/health` and `/ready`.
    private func statusServer(port: Int, setup: Setup, subscription: (PubSubSubscriber, SubscriptionTelemetry)?) -> StatusServer {
        let registry = self.registry
        let (client, outbox, metrics, health) = (setup.wiring.client, setup.outboxes[0], setup.metrics, setup.health)
        return StatusServer(port: port, logger: logger, bound: { [self] port in statusPort.withLock { $0 = port } }) { path in
            switch path {
            case "/metrics":
                metrics.observe(client)
                try? await metrics.observe(outbox)
                if let (subscriber, telemetry) = subscription { await telemetry.observe(subscriber) }
                return (200, "text/plain; version=0.0.4", registry.emitToString())
            case "/health":
                let (status, report) = await health.liveness(client: client, outbox: outbox, subscription: subscription?.0)
                return (status, "application/json", report.json)
            case "/ready":
                let (status, report) = await health.readiness(client: client, outbox: outbox, subscription: subscription?.0)
                return (status, "application/json", report.json)
            default:
                return (404, "text/plain", "not found: try /metrics, /health or /ready\n")
            }
        }
    }
}

extension Logger {
    /// A copy with one more metadata item.
    func with(_ key: String, _ value: String) -> Logger {
        var copy = self
        copy[metadataKey: key] = .string(value)
        return copy
    }
}

/// Counts what the summary reports.
final class EventCounters: Sendable {
    struct Counts {
        var retries = 0
        var breakerOpens = 0
    }

    private let counts = Mutex(Counts())

    var sink: ResilienceEventSink {
        ResilienceEventSink { [self] event in
            counts.withLock { counts in
                switch event {
                case .retryScheduled: counts.retries += 1
                case .breakerStateChanged(_, _, .open): counts.breakerOpens += 1
                default: break
                }
            }
        }
    }

    var snapshot: Counts { counts.withLock { $0 } }
}
