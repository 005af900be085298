import Foundation
import Logging
import SalesforceResilience
import SalesforceResilienceObservability
import SalesforceResiliencePubSub
import ServiceLifecycle
import Synchronization

/// The subscriber as a swift-service-lifecycle `Service`: every payment request on the topic is
/// worked (``PaymentRequests/result(of:options:at:)``) and its result enqueued in the outbox,
/// durably, before the subscriber checkpoints the event; the ``OutboxWorker`` beside it sends
/// the results. A crash between the enqueue and the checkpoint brings the event again, and its
/// result is enqueued again under the same external id: an update in the org, not a duplicate.
///
/// The outbox's store failing (PostgreSQL restarted, a full disk) does not stop the
/// subscription: the enqueue is retried with the worker's backoff (1 s doubling to 30 s), `/ready` says so,
/// and the stream waits (its pending request stays; Salesforce keeps it open while one is).
/// A graceful shutdown ends the run; the event in hand, if its result is not enqueued yet, comes
/// again on the next start.
final class EventWorker: Service {
    let subscriber: PubSubSubscriber
    let store: any OutboxStore
    let options: EventOptions
    let clock: any ResilienceClock
    let logger: Logger
    let health: HealthState?
    /// Puts each event in a span, the parent of anything the handling does.
    let telemetry: SubscriptionTelemetry?
    private let counts = Mutex((handled: 0, enqueueRetries: 0))

    init(subscriber: PubSubSubscriber, store: any OutboxStore, options: EventOptions, clock: any ResilienceClock, logger: Logger,
         health: HealthState?, telemetry: SubscriptionTelemetry? = nil) {
        self.subscriber = subscriber
        self.telemetry = telemetry
        self.store = store
        self.options = options
        self.clock = clock
        self.logger = logger
        self.health = health
    }

    /// Events worked by this run (a redelivered one counts again).
    var handled: Int { counts.withLock { $0.handled } }

    func run() async throws {
        do {
            let handler: @Sendable (PubSubEvent) async throws -> Void = { event in try await self.handle(event) }
            try await cancelWhenGracefulShutdown { try await self.subscriber.run(self.telemetry?.traced(handler) ?? handler) }
        } catch _ where Task.isShuttingDownGracefully || Task.isCancelled {
            // A shutdown cancelled the subscription; whatever it threw on the way out is that.
        }
        logger.info("shutting down: the subscription is closed", metadata: ["handled": "\(handled)"])
    }

    /// Works `event` and enqueues its result, retrying the store until it takes it.
    func handle(_ event: PubSubEvent) async throws {
        let result = PaymentRequests.result(of: event, options: options, at: clock.wallClockNow)
        var failures = 0
        while true {
            do {
                try await store.enqueue([result])
                break
            } catch {
                if error is CancellationError || Task.isCancelled { throw error }
                failures += 1
                if failures == 1 {
                    logger.warning("cannot enqueue an event's result; retrying with backoff, the stream waits",
                                   metadata: ["event": "\(event.id)", "cause": "\(error)"])
                }
                health?.workerRetrying(error, worker: .events)
                counts.withLock { $0.enqueueRetries += 1 }
                try await clock.sleep(for: OutboxWorker.retryBackoff.baseDelay(forRetry: failures))
            }
        }
        if failures > 0 { health?.workerRecovered(worker: .events) }
        counts.withLock { $0.handled += 1 }
    }
}
