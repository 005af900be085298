import Foundation
import SalesforceResilience
import SalesforceResilienceTesting
import Testing

// The names the documentation's examples use without defining them: the reader's own values.
// Generated code in GeneratedSnippets.swift refers to them; nothing here runs.

let id = "client-id"
let secret = "client-secret"
let clientID = id
let clientSecret = secret
let key = "consumer-key"
let url = URL(string: "https://acme.my.salesforce.com")!
let customerID = "CUST-1"
let seed: UInt64 = 1
let payment = Payment(Amount__c: 12.5, Customer__c: customerID)
let payments = [payment]
var client: SalesforceClient { fatalError("a documentation placeholder") }
var org: SalesforceSimulator { fatalError("a documentation placeholder") }

/// A record type of the reader's.
struct Payment: Codable, Sendable, Equatable {
    var Amount__c: Double
    var Customer__c: String
}

/// A query row of the reader's.
struct Row: Decodable, Sendable {
    var Id: String
}

/// An account row of the reader's.
struct Account: Codable, Sendable {
    var Id: String
    var Name: String
}

/// The reader's own logger, whatever it is.
struct ReaderLogger: Sendable {
    func info(_ message: String) {}
    func warning(_ message: String) {}
}

let logger = ReaderLogger()
let log = logger

/// The reader's integration under test.
struct MyPaymentPoster {
    let client: SalesforceClient
    let clock: VirtualClock
    func post(reference: String, amount: Double) async throws {}
}

/// Compiles every example; runs none (they need an org).
@Suite struct DocSnippetTests {
    @Test func everyDocumentationExampleCompiles() {
        // The test is that this target builds: GeneratedSnippets.swift holds every ```swift block.
        #expect(generatedSnippetCount > 0)
    }
}
