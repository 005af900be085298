import Foundation

/// An org served in this process for the service to post to when it has no `--instance-url`:
/// the example's embedded simulator (target `PaymentServiceSimulator`, in builds with the
/// `EmbeddedSimulator` trait). The service kit itself never links the testing library.
public protocol EmbeddedOrg: Sendable {
    /// Where it listens.
    var url: URL { get }
    /// What it is, for the service's start-up line.
    var summaryDescription: String { get }
    /// How many records of `sobject` hold each value of `field`: what the org holds, for the
    /// summary's landed and duplicate figures.
    func countsByValue(of sobject: String, field: String) -> [String: Int]
    /// Stops serving.
    func stop()
}

/// Makes the embedded org for a fault seed.
public typealias EmbeddedOrgFactory = @Sendable (_ seed: UInt64) throws -> any EmbeddedOrg
