import Foundation

/// What PaymentService is asked to do. The command line maps onto it; tests build it directly.
/// Options named as PaymentPoster's mean the same thing.
public struct ServiceOptions: Sendable, Equatable {
    /// Payments in the job. Default 2,000.
    public var count = 2_000
    /// Payments arriving per second. Default 50.
    public var rate = 50
    /// The sObject. Default `Payment__c`.
    public var sobject = "Payment__c"
    /// The external id field. Default `Reference__c`.
    public var externalIdField = "Reference__c"
    /// The outbox journal. Default `paymentservice.journal`.
    public var journal = "paymentservice.journal"
    /// The org; `nil` serves an embedded simulator over loopback HTTP, with an incident.
    public var instanceURL: URL?
    /// Accept an `http` instance URL on a loopback address.
    public var allowHTTPLoopback = false
    /// The embedded simulator's fault seed. Default 42.
    public var seed: UInt64 = 42
    /// The port for `/metrics`, `/health` and `/ready`; 0 picks a free one; `nil` serves none.
    public var metricsPort: Int?
    /// The most one batch (one collections call, retries included) may take; a shutdown waits
    /// at most this long for the batch in flight. Default 30 s.
    public var batchTimeout: Duration = .seconds(30)
    /// Stop once every payment of the job is delivered, instead of waiting for more work.
    public var exitWhenDone = false
    /// PostgreSQL (`postgres://user[:password]@host[:port]/database`) for the outbox, the token
    /// and the fleet's settings, shared by every service pointed at it; `nil` keeps the file
    /// journal and a token of the process's own.
    public var postgresURL: String?
    /// Drainers in this process, claiming batches from one outbox. Default 1.
    public var workers = 1
    /// The job's name in a shared outbox: services with the same name produce its payments once
    /// between them. Default `payments`.
    public var job = "payments"

    /// The `events` command's topic, endpoint and replay store; `nil` for the payment job.
    public var events: EventOptions?

    /// How long a claimed batch stays a drainer's before another may take it (its drainer
    /// died): twice the batch timeout, so that a live batch is never taken.
    public var claimLease: Duration { batchTimeout * 2 }

    /// The defaults.
    public init() {}

    /// The job's reference for payment `n`: `PAY-000001`.
    public static func reference(_ n: Int) -> String { String(format: "PAY-%06d", n) }
}
