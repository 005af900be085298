import Logging
import SalesforceResilience
import SalesforceResiliencePostgres
import ServiceLifecycle

/// Follows the fleet's settings in PostgreSQL as a `Service`: the operating mode an operator set
/// (`PaymentService mode set …`) and the breaker openings other workers published, every two
/// seconds, until a graceful shutdown.
struct FleetFollower: Service {
    let fleet: PostgresFleet
    let client: SalesforceClient
    let logger: Logger

    func run() async throws {
        let logger = self.logger
        await cancelWhenGracefulShutdown {
            await fleet.follow(client) { round in
                switch round {
                case .success(let sync) where !sync.isEmpty:
                    logger.info("following the fleet", metadata: [
                        "mode": "\(sync.mode?.rawValue ?? "unchanged")", "tripped": "\(sync.tripped)", "published": "\(sync.published)",
                    ])
                case .success:
                    break
                case .failure(let error):
                    logger.warning("the fleet's settings could not be read; keeping this worker's own", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}
