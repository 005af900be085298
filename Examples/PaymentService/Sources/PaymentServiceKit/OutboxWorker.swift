import Foundation
import Logging
import SalesforceResilience
import ServiceLifecycle
import Synchronization

/// The outbox's drain loop as a swift-service-lifecycle `Service`.
///
/// On graceful shutdown (SIGTERM, SIGINT) it lets the batch in flight finish — a collections
/// call is never cut off half-way — stops claiming, and returns; waits between batches end at
/// once. The journal is `fsync`ed on every write, so there is nothing left to flush.
final class OutboxWorker: Service {
    let outbox: Outbox
    let source: any WorkSource
    let options: ServiceOptions
    let logger: Logger
    private let clock: any ResilienceClock
    private let finished = Mutex(false)

    /// Whether the worker stopped because every payment of the job was delivered.
    var finishedJob: Bool { finished.withLock { $0 } }

    private let health: HealthState?

    init(outbox: Outbox, source: any WorkSource, options: ServiceOptions, logger: Logger, health: HealthState? = nil) {
        self.outbox = outbox
        self.source = source
        self.options = options
        self.logger = logger
        self.health = health
        clock = outbox.client.clock
    }

    /// Drains until a graceful shutdown or the job's end. A failure a retry can fix — PostgreSQL
    /// restarted, frozen or unreachable, the token endpoint timing out or failing — never ends the
    /// worker: it is logged once per outage with its cause, `/ready` says so, and the step is
    /// tried again with backoff (1 s doubling to 30 s). Only a failure retrying cannot fix (the
    /// app's credentials refused, a batch Salesforce rejects as a whole) stops it, saying why.
    func run() async throws {
        var failures = 0
        var outageStarted: ContinuousClock.Instant?
        while !Task.isShuttingDownGracefully {
            let wait: Duration
            do {
                guard let next = try await step() else { return }
                wait = next
                if let started = outageStarted {
                    logger.info("recovered: the outbox's store and Salesforce answer again",
                                metadata: ["outage_s": "\(Int64((ContinuousClock.now - started).components.seconds))"])
                    outageStarted = nil
                }
                failures = 0
                health?.workerRecovered()
            } catch {
                if Self.isFatal(error) { throw error }
                failures += 1
                if outageStarted == nil {
                    outageStarted = .now
                    logger.warning("cannot drain for now; retrying with backoff until it works again", metadata: ["cause": "\(error)"])
                }
                health?.workerRetrying(error)
                wait = Self.retryBackoff.baseDelay(forRetry: failures)
            }
            health?.beat(quietFor: wait)
            guard wait > .zero else { continue }
            // A shutdown ends the wait at once; it never interrupts a step.
            try? await cancelWhenGracefulShutdown { try await self.clock.sleep(for: wait) }
        }
        logger.info("shutting down: the batch in flight has finished; no more are claimed")
    }

    /// One step: take up new work, send one batch. Returns how long to wait before the
    /// next, or `nil` when the job is done.
    private func step() async throws -> Duration? {
        try await source.catchUp()
        let step = try await outbox.drainOnce()
        switch step {
        case .idle where options.exitWhenDone:
            if try await source.isExhausted(), try await outbox.backlog().count == 0 {
                logger.info("every \(source.itemName) of the job is delivered")
                finished.withLock { $0 = true }
                return nil
            }
        case .sent(let delivered, let deadLettered, let retrying):
            logger.debug("batch sent", metadata: ["delivered": "\(delivered)", "dead_lettered": "\(deadLettered)", "retrying": "\(retrying)"])
        default:
            break
        }
        return await outbox.wait(after: step)
    }

    /// The wait before retrying a step a retry can fix (the store, the login endpoint): 1 s
    /// doubling to 30 s, the same for the subscriber's enqueues (``EventWorker``).
    static let retryBackoff = Backoff(initial: .seconds(1), multiplier: 2, maximum: .seconds(30), jitter: .none)

    /// Whether retrying cannot fix `error`: the app's credentials refused, a credential store
    /// that is not this app's, a batch refused as a whole, an invalid argument, cancellation.
    static func isFatal(_ error: any Error) -> Bool {
        switch error {
        case is CancellationError, is OutboxError: true
        case AuthenticationError.refused: true
        case let error as CredentialStoreError: !error.isTransient
        case let error as SalesforceClientError: if case .invalidArgument = error { true } else { false }
        default: false
        }
    }
}
