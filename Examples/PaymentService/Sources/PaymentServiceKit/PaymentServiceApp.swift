import Foundation
import Logging
import Prometheus
import SalesforceResilience
import SalesforceResilienceAsyncHTTPClient
import SalesforceResilienceObservability
import SalesforceResilienceTesting
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
    private let logger: Logger
    private let statusPort = Mutex<Int?>(nil)
    private let group = Mutex<ServiceGroup?>(nil)

    /// Creates the service; `environment` supplies credentials for a real org (`SF_ACCESS_TOKEN`,
    /// or `SF_CLIENT_ID` and `SF_CLIENT_SECRET`).
    public init(options: ServiceOptions, environment: [String: String] = ProcessInfo.processInfo.environment, logger: Logger) {
        self.options = options
        self.environment = environment
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
        let health = HealthState()
        let metrics = ResilienceMetrics(factory: PrometheusMetricsFactory(registry: registry))
        let wiring = try ServiceWiring(options: options, environment: environment,
                                       events: .combining([.logging(to: logger), metrics.sink, health.sink, counters.sink]))
        defer { wiring.stop() }
        let store = try FileJournalOutboxStore(path: options.journal)
        let outbox = Outbox(store: store, client: wiring.client)
        let source = await PaymentSource(options: options, store: store, clock: wiring.client.clock)
        let worker = OutboxWorker(outbox: outbox, source: source, options: options, logger: logger)
        var services = [ServiceGroupConfiguration.ServiceConfiguration(
            service: worker, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup)]
        if let port = options.metricsPort {
            let client = wiring.client
            let registry = self.registry
            let server = StatusServer(port: port, logger: logger, bound: { [self] port in statusPort.withLock { $0 = port } }) { path in
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
            services.append(.init(service: server))
        }
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        self.group.withLock { $0 = group }
        logger.info("payment service started", metadata: ["payments": "\(options.count)", "org": "\(wiring.description)", "journal": "\(options.journal)"])
        do {
            try await group.run()
        } catch {
            health.workerFailed(error)
            try? await wiring.transport.shutdown()
            await store.close()
            throw error
        }
        try await wiring.transport.shutdown()
        let (queued, _) = await store.backlog()
        let letters = try await store.deadLetters()
        let next = await source.next
        let inOrg = wiring.embedded?.countsByValue(of: options.sobject, field: options.externalIdField)
        let references = (1...options.count).map(ServiceOptions.reference)
        let counts = counters.snapshot
        await store.close()
        return ServiceSummary(
            payments: options.count, deliveredThisRun: await outbox.delivered, stillQueued: queued, notYetEnqueued: options.count - (next - 1),
            deadLettered: letters.count, landed: inOrg.map { counts in references.filter { counts[$0] == 1 }.count },
            duplicates: inOrg.map { counts in references.filter { (counts[$0] ?? 0) > 1 }.count },
            apiCalls: wiring.requests, retries: counts.retries, breakerOpens: counts.breakerOpens,
            stoppedBy: worker.finishedJob ? "done" : "signal",
            elapsedSeconds: Double((ContinuousClock.now - started).components.seconds) + Double((ContinuousClock.now - started).components.attoseconds) / 1e18)
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
