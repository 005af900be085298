import Logging
import SalesforceResilience
import SalesforceResiliencePostgres
import ServiceLifecycle
import Synchronization

/// Follows the fleet's settings in PostgreSQL as a `Service`: the operating mode an operator set
/// (`PaymentService mode set …`) and the breaker openings other workers published, every two
/// seconds, until a graceful shutdown.
struct FleetFollower: Service {
    let fleet: PostgresFleet
    let client: SalesforceClient
    let logger: Logger

    func run() async throws {
        let logger = self.logger
        // Logged once when reading fails and once when it works again, not every round.
        let failing = Mutex(false)
        await cancelWhenGracefulShutdown {
            await fleet.follow(client) { round in
                if case .success = round, failing.withLock({ $0 }) {
                    failing.withLock { $0 = false }
                    logger.info("the fleet's settings can be read again")
                }
                switch round {
                case .success(let sync) where !sync.isEmpty:
                    logger.info("following the fleet", metadata: [
                        "mode": "\(sync.mode?.rawValue ?? "unchanged")", "tripped": "\(sync.tripped)", "published": "\(sync.published)",
                    ])
                case .success:
                    break
                case .failure(let error):
                    if !failing.withLock({ state in defer { state = true }; return state }) {
                        logger.warning("the fleet's settings could not be read; keeping this worker's own until they can", metadata: ["error": "\(error)"])
                    }
                }
            }
        }
    }
}
