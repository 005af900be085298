import Foundation
@testable import PaymentServiceKit
import SalesforceResilience
import Synchronization
import Testing

/// What the service refuses to start with, and that a refusal leaves nothing running: an
/// AsyncHTTPClient client dropped without a shutdown ends the whole process.
@Suite struct ServiceWiringTests {
    @Test func withoutAnInstanceURLOrAnEmbeddedOrgItNamesTheFix() throws {
        #expect(throws: ServiceError.noEmbeddedOrg) {
            _ = try ServiceWiring(options: ServiceOptions(), environment: [:], credentialStore: nil, embeddedOrg: nil, events: .none)
        }
    }

    @Test func aClientThatCannotBeMadeShutsItsTransportDownAndThrows() throws {
        var options = ServiceOptions()
        options.instanceURL = URL(string: "https://acme.my.salesforce.com/services/data")  // a path: not the org's base URL
        #expect(throws: SalesforceClientError.self) {
            _ = try ServiceWiring(options: options, environment: ["SF_ACCESS_TOKEN": "t"], credentialStore: nil, embeddedOrg: nil, events: .none)
        }
    }

    @Test func anEmbeddedOrgIsStoppedWhenTheClientCannotBeMade() throws {
        final class Org: EmbeddedOrg {
            let stopped = Mutex(false)
            var url: URL { URL(string: "http://127.0.0.1:1/x")! }  // a path again
            var summaryDescription: String { "test org" }
            func countsByValue(of sobject: String, field: String) -> [String: Int] { [:] }
            func stop() { stopped.withLock { $0 = true } }
        }
        let org = Org()
        #expect(throws: SalesforceClientError.self) {
            _ = try ServiceWiring(options: ServiceOptions(), environment: [:], credentialStore: nil, embeddedOrg: { _ in org }, events: .none)
        }
        #expect(org.stopped.withLock { $0 })
    }
}
