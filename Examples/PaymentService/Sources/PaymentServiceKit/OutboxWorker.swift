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
    let source: PaymentSource
    let options: ServiceOptions
    let logger: Logger
    private let clock: any ResilienceClock
    private let finished = Mutex(false)

    /// Whether the worker stopped because every payment of the job was delivered.
    var finishedJob: Bool { finished.withLock { $0 } }

    init(outbox: Outbox, source: PaymentSource, options: ServiceOptions, logger: Logger) {
        self.outbox = outbox
        self.source = source
        self.options = options
        self.logger = logger
        clock = outbox.client.clock
    }

    func run() async throws {
        while !Task.isShuttingDownGracefully {
            try await source.catchUp()
            let step = try await outbox.drainOnce()
            switch step {
            case .idle where options.exitWhenDone:
                // Other services of a fleet may have enqueued the rest of the job.
                try await source.takeUpProgress()
                if await source.exhausted, try await outbox.backlog().count == 0 {
                    logger.info("every payment of the job is delivered")
                    finished.withLock { $0 = true }
                    return
                }
            case .sent(let delivered, let deadLettered, let retrying):
                logger.debug("batch sent", metadata: ["delivered": "\(delivered)", "dead_lettered": "\(deadLettered)", "retrying": "\(retrying)"])
            default:
                break
            }
            let wait = await outbox.wait(after: step)
            guard wait > .zero else { continue }
            // A shutdown ends the wait at once; it never interrupts drainOnce() above.
            try? await cancelWhenGracefulShutdown { try await self.clock.sleep(for: wait) }
        }
        logger.info("shutting down: the batch in flight has finished; no more are claimed")
    }
}
