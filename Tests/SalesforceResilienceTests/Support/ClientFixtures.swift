import Foundation
import SalesforceResilience
import SalesforceResilienceTesting

let testInstance = URL(string: "https://acme.my.salesforce.com")!

/// A client over `transport` with a static token, a seeded auto-advancing virtual clock and
/// events recorded.
func makeClient(
    _ transport: any HTTPTransport, tokenProvider: any TokenProvider = StaticTokenProvider(accessToken: "00D000000000001!STATICTOKEN"),
    recorder: EventRecorder = EventRecorder(), clock: VirtualClock = VirtualClock(mode: .autoAdvance),
    configure: (inout SalesforceConfiguration) -> Void = { _ in }
) throws -> SalesforceClient {
    var configuration = SalesforceConfiguration(instanceURL: testInstance)
    configure(&configuration)
    return try SalesforceClient(
        configuration: configuration, transport: transport, tokenProvider: tokenProvider,
        events: recorder.sink, clock: clock, random: RandomSource(seed: 99))
}

extension HTTPRequest {
    /// The body as UTF-8 text.
    var bodyText: String { String(decoding: body ?? Data(), as: UTF8.self) }

    /// The form body as a dictionary.
    var formFields: [String: String] {
        var fields: [String: String] = [:]
        for pair in bodyText.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? "" }
            if parts.count == 2 { fields[parts[0]] = parts[1] }
        }
        return fields
    }

    /// The decoded JSON body.
    var jsonObject: Any? { body.flatMap { try? JSONSerialization.jsonObject(with: $0) } }
}

/// A token endpoint answer.
func tokenResponse(_ token: String, instance: String = "https://acme.my.salesforce.com") -> HTTPResponse {
    .json(200, #"{"access_token":"\#(token)","instance_url":"\#(instance)","id":"https://login.salesforce.com/id/00D/005","token_type":"Bearer","issued_at":"1767225600000","signature":"sig","scope":"api refresh_token"}"#)
}

let sessionExpired = HTTPResponse.salesforceError(401, code: "INVALID_SESSION_ID", message: "Session expired or invalid")
