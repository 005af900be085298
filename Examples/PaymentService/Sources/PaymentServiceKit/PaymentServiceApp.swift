import Foundation
import Logging
import Prometheus
import SalesforceResilience
import SalesforceResilienceAsyncHTTPClient
import SalesforceResilienceObservability
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
    private let logger: Logger
    private let statusPort = Mutex<Int?>(nil)
    private let group = Mutex<ServiceGroup?>(nil)

    /// Creates the service; `environment` supplies credentials for a real org (`SF_ACCESS_TOKEN`,
    /// or `SF_CLIENT_ID` and `SF_CLIENT_SECRET`); `embeddedOrg` makes the org posted to when
    /// ``ServiceOptions/instanceURL`` is `nil` (without one, the service needs an instance URL).
    public init(options: ServiceOptions, environment: [String: String] = ProcessInfo.processInfo.environment,
                embeddedOrg: EmbeddedOrgFactory? = nil, logger: Logger) {
        self.options = options
        self.environment = environment
        self.embeddedOrg = embeddedOrg
        self.logger = logger
    }

    /// The port the status server bound, once it has.
    public var boundStatusPort: Int? { statusPort.withLock { $0 } }

    /// Starts a graceful shutdown, as SIGTERM does.
    public func shutDown() async {
        await group.withLock { $0 }?.triggerGracefulShutdown()
    }

    /// Runs until a signal, ``shutDown()``, or — with `exitWhenDone` — the job's end.
    public func run() async throws -> ServiceSummary {
        let started = ContinuousClock.now
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
        defer { wiring.stop() }
        let outboxOptions = OutboxOptions(claimLease: options.claimLease)
        let outboxes = (0..<max(1, options.workers)).map { _ in Outbox(store: storage.store, client: wiring.client, options: outboxOptions) }
        let source: PaymentSource
        do {
            source = try await PaymentSource(options: options, ledger: storage.ledger, clock: wiring.client.clock)
        } catch {
            try? await wiring.transport.shutdown()
            await storage.close()
            throw error
        }
        let workers = outboxes.enumerated().map { n, outbox in
            OutboxWorker(outbox: outbox, source: source, options: options, logger: outboxes.count > 1 ? logger.with("drainer", "\(n + 1)") : logger,
                         health: health)
        }
        var services = workers.map {
            ServiceGroupConfiguration.ServiceConfiguration(
                service: $0, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup)
        }
        if let fleet = storage.fleet {
            services.append(.init(service: FleetFollower(fleet: fleet, client: wiring.client, logger: logger)))
        }
        if let port = options.metricsPort {
            services.append(.init(service: statusServer(port: port, client: wiring.client, outbox: outboxes[0], metrics: metrics, health: health)))
        }
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        self.group.withLock { $0 = group }
        logger.info("payment service started", metadata: [
            "payments": "\(options.count)", "org": "\(wiring.description)", "store": "\(storage.description)", "drainers": "\(outboxes.count)",
        ])
        do {
            try await group.run()
        } catch {
            health.workerFailed(error)
            try? await wiring.transport.shutdown()
            await storage.close()
            throw error
        }
        try await wiring.transport.shutdown()
        // The store's figures, if it answers: with PostgreSQL down or frozen at shutdown the
        // summary says it could not know rather than holding the exit for it.
        var figures: (queued: Int, letters: Int, produced: Int)?
        if !health.isRetrying {
            do {
                figures = (try await storage.store.backlog().count, try await storage.deadLetterCount(), try await source.produced())
            } catch {
                logger.warning("the summary's queue figures are unknown: the store did not answer", metadata: ["cause": "\(error)"])
            }
        } else {
            logger.warning("the summary's queue figures are unknown: the store was failing at shutdown")
        }
        let inOrg = wiring.embedded?.countsByValue(of: options.sobject, field: options.externalIdField)
        let references = (1...options.count).map(ServiceOptions.reference)
        let counts = counters.snapshot
        var delivered = 0
        for outbox in outboxes { delivered += await outbox.delivered }
        let elapsed = ContinuousClock.now - started
        let summary = ServiceSummary(
            payments: options.count, deliveredThisRun: delivered, stillQueued: figures?.queued, notYetEnqueued: figures.map { options.count - $0.produced },
            deadLettered: figures?.letters, landed: inOrg.map { counts in references.filter { counts[$0] == 1 }.count },
            duplicates: inOrg.map { counts in references.filter { (counts[$0] ?? 0) > 1 }.count },
            apiCalls: wiring.requests, retries: counts.retries, breakerOpens: counts.breakerOpens,
            stoppedBy: workers.contains { $0.finishedJob } ? "done" : "signal",
            elapsedSeconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        await storage.close()
        return summary
    }

    /// `/metrics`, `/health` and `/ready`.
    private func statusServer(port: Int, client: SalesforceClient, outbox: Outbox, metrics: ResilienceMetrics, health: HealthState) -> StatusServer {
        let registry = self.registry
        return StatusServer(port: port, logger: logger, bound: { [self] port in statusPort.withLock { $0 = port } }) { path in
            switch path {
            case "/metrics":
                metrics.observe(client)
                try? await metrics.observe(outbox)
                return (200, "text/plain; version=0.0.4", registry.emitToString())
            case "/health":
                let (status, report) = await health.liveness(client: client, outbox: outbox)
                return (status, "application/json", report.json)
            case "/ready":
                let (status, report) = await health.readiness(client: client, outbox: outbox)
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
