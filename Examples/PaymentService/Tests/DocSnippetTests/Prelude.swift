import _CryptoExtras
import Foundation
import Testing

// The names the server-side examples use without defining them: the reader's own values.
// Generated code in GeneratedSnippets.swift refers to them; nothing here runs.

let id = "client-id"
let secret = "client-secret"
let key = "consumer-key"
let url = URL(string: "https://acme.my.salesforce.com")!
var rsa: _RSA.Signing.PrivateKey { fatalError("a documentation placeholder") }

/// Compiles every server-side example; runs none (they need an org).
@Suite struct DocSnippetTests {
    @Test func everyServerSideDocumentationExampleCompiles() {
        #expect(generatedSnippetCount > 0)
    }
}
