import Foundation
import SalesforceResilience
import SalesforceResilienceTesting
import Testing

/// Several PaymentPoster processes, started at once on journals of their own with one
/// `--token-store`, against an org with Refresh Token Rotation over loopback HTTP: one refresh
/// for all of them, nothing revoked, every payment landed once.
@Suite struct SharedTokenProcessTests {
    @Test(.timeLimit(.minutes(2))) func postersSharingATokenStoreRefreshOncePerExpiry() async throws {
        let binary = ChildProcess.builtExecutable(named: "PaymentPoster")
        try #require(FileManager.default.isExecutableFile(atPath: binary.path), "build PaymentPoster first")
        var served: SalesforceSimulator?
        let server = try LoopbackHTTPServer { url in
            let org = SalesforceSimulator(options: SimulatorOptions(instanceURL: url, refreshTokenRotation: true), clock: SystemClock())
            served = org
            return org
        }
        defer { server.stop() }
        let org = try #require(served)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("shared-token-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let store = directory.appendingPathComponent("token.store").path
        // An earlier run left an access token that has expired since, with the current refresh token.
        let refreshToken = org.issueRefreshToken()
        let owner = OAuthTokenProvider(loginURL: server.baseURL, grant: .refreshToken(refreshToken: refreshToken, clientID: "poster", clientSecret: nil))
            .credentialOwner
        let expired = AccessToken(value: "00DSIM000000001!EXPIRED", instanceURL: server.baseURL,
                                  identityURL: "\(server.baseURL.absoluteString)/id/00DSIM000000001/005SIM000000001", refreshToken: refreshToken)
        _ = try await FileCredentialStore(path: store).replace(expected: nil, with: expired, owner: owner)

        let posters = try (0..<4).map { n in
            try ChildProcess(binary, arguments: [
                "--instance-url", server.baseURL.absoluteString, "--allow-http-loopback", "--token-store", store, "--quiet",
                "--journal", directory.appendingPathComponent("poster-\(n).journal").path, "--count", "50", "--rate", "500",
            ], environment: ["SF_REFRESH_TOKEN": refreshToken, "SF_CLIENT_ID": "poster"])
        }
        for poster in posters {
            #expect(await poster.exitStatus() == 0, "\(poster.errorLines.suffix(5))")
            #expect(!poster.standardOutput.contains(refreshToken) && !poster.errorLines.joined().contains(refreshToken))
        }
        #expect(org.tokenRequests == 1)
        #expect(org.refreshTokenRevocations == 0)
        // Every poster numbers its payments PAY-000001…: four posters, 50 references, each
        // upserted by external id, so each reference is one record.
        let stored = org.countsByValue(of: "Payment__c", field: "Reference__c")
        #expect(stored.count == 50 && stored.values.allSatisfy { $0 == 1 })
    }
}
