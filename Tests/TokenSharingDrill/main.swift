// A process of an integration, for TokenSharingProcessTests: it makes N concurrent calls to an
// org, refreshing its token through a shared FileCredentialStore (or, with --own-store, through
// a copy of the credential of its own, as every process did before the store existed), and
// prints one line of JSON: {"succeeded":…,"failed":…,"errors":[…]}.
//
//   TokenSharingDrill --instance-url URL --client-id ID --refresh-token RT --calls N
//                     (--store PATH | --own-store EXPIRED_ACCESS_TOKEN)
import Foundation
import SalesforceResilience

var options: [String: String] = [:]
var arguments = CommandLine.arguments.dropFirst()
while let flag = arguments.popFirst(), let value = arguments.popFirst() { options[flag] = value }
guard let instance = options["--instance-url"].flatMap(URL.init(string:)), let clientID = options["--client-id"],
      let refreshToken = options["--refresh-token"], let calls = options["--calls"].flatMap(Int.init)
else {
    FileHandle.standardError.write(Data("usage: TokenSharingDrill --instance-url URL --client-id ID --refresh-token RT --calls N (--store PATH | --own-store TOKEN)\n".utf8))
    exit(2)
}
let provider = OAuthTokenProvider(loginURL: instance, grant: .refreshToken(refreshToken: refreshToken, clientID: clientID, clientSecret: nil),
                                  transport: URLSessionTransport(options: URLSessionTransport.Options(connections: .reuse)), allowHTTPLoopback: true)
var configuration = SalesforceConfiguration(instanceURL: instance, allowHTTPLoopback: true)
if let path = options["--store"] {
    configuration.credentialStore = FileCredentialStore(path: path)
} else if let expired = options["--own-store"] {
    let token = AccessToken(value: expired, instanceURL: instance, refreshToken: refreshToken)
    configuration.credentialStore = InMemoryCredentialStore(token: token, owner: provider.credentialOwner)
}
// One session for all the calls: a fresh connection per attempt (the default) would run a
// hundred URLSessions at once in each of eight processes, a load that starves every other test
// on a 2-core machine. No answer is lost in these tests, so reuse is safe here.
let transport = URLSessionTransport(options: URLSessionTransport.Options(connections: .reuse))
let client = try SalesforceClient(configuration: configuration, transport: transport, tokenProvider: provider)
let errors = await withTaskGroup(of: String?.self) { group in
    for _ in 0..<calls {
        group.addTask {
            do {
                _ = try await client.limits()
                return nil
            } catch {
                return String(describing: error)
            }
        }
    }
    var errors: [String] = []
    for await error in group { if let error { errors.append(error) } }
    return errors
}
let summary: [String: Any] = ["succeeded": calls - errors.count, "failed": errors.count, "errors": Array(Set(errors).prefix(3))]
print(String(decoding: try JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys]), as: UTF8.self))
