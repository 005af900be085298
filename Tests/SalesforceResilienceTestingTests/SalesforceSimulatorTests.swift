import Foundation
import SalesforceResilience
import SalesforceResilienceTesting
import Testing

struct SimPayment: Codable, Sendable, Equatable {
    var Amount__c: Double
    var Customer__c: String
}

struct SimPaymentRow: Codable, Sendable, Equatable {
    var Reference__c: String
    var Amount__c: Double
}

@Suite struct SalesforceSimulatorTests {
    let clock = VirtualClock(mode: .autoAdvance)

    func setUp(_ options: SimulatorOptions = SimulatorOptions(), configure: (inout SalesforceConfiguration) -> Void = { _ in }) throws -> (SalesforceSimulator, SalesforceClient) {
        let org = SalesforceSimulator(options: options, clock: clock)
        var configuration = SalesforceConfiguration(instanceURL: org.options.instanceURL)
        configure(&configuration)
        let client = try SalesforceClient(configuration: configuration, transport: org, tokenProvider: org.clientCredentialsProvider(), clock: clock, random: RandomSource(seed: 1))
        return (org, client)
    }

    @Test func upsertCreatesThenUpdatesOneRecord() async throws {
        let (org, client) = try setUp()
        let first = try await client.upsert("Payment__c", externalIdField: "Reference__c", value: "PAY-1", fields: SimPayment(Amount__c: 10, Customer__c: "C"))
        let second = try await client.upsert("Payment__c", externalIdField: "Reference__c", value: "PAY-1", fields: SimPayment(Amount__c: 11, Customer__c: "C"))
        #expect(first.created && !second.created && first.id == second.id)
        #expect(org.records(of: "Payment__c").count == 1)
        #expect(org.records(of: "Payment__c").first?["Amount__c"] == 11)
    }

    @Test func hostileExternalIdsArriveIntact() async throws {
        let (org, client) = try setUp()
        let values = ["a/b", "x?y=1#z", "100% sure", "../Account/001"]
        for value in values {
            _ = try await client.upsert("Payment__c", externalIdField: "Reference__c", value: value, fields: SimPayment(Amount__c: 1, Customer__c: "C"))
        }
        #expect(Set(org.countsByValue(of: "Payment__c", field: "Reference__c").keys) == Set(values))
        #expect(org.records(of: "Account").isEmpty)
    }

    @Test func collectionsUpsertIsIdempotentAcrossRuns() async throws {
        let (org, client) = try setUp()
        let rows = (1...450).map { SimPaymentRow(Reference__c: "PAY-\($0)", Amount__c: Double($0)) }
        let first = try await client.upsertCollection("Payment__c", externalIdField: "Reference__c", records: rows)
        let second = try await client.upsertCollection("Payment__c", externalIdField: "Reference__c", records: rows)
        #expect(first.allSatisfy { $0.success && $0.created })
        #expect(second.allSatisfy { $0.success && !$0.created })
        #expect(org.records(of: "Payment__c").count == 450)
        #expect(org.duplicates(of: "Payment__c", field: "Reference__c").isEmpty)
        #expect(org.calls["PATCH collections"] == 6)
    }

    @Test func queryFollowsPagesAndInjectionFindsNothing() async throws {
        let (org, client) = try setUp(SimulatorOptions(queryPageSize: 2))
        org.seed("Account", records: (1...5).map { ["Name": .string("Acme \($0)")] })
        struct Row: Decodable, Sendable { var Id: String; var Name: String }
        let all = try await client.query("SELECT Id, Name FROM Account", as: Row.self).collect()
        #expect(all.map(\.Name) == ["Acme 1", "Acme 2", "Acme 3", "Acme 4", "Acme 5"])
        #expect(org.calls["GET query page"] == 2)
        let hostile = "x' OR Name != '"
        let injected = try await client.query("SELECT Id, Name FROM Account WHERE Name = \(hostile)", as: Row.self).collect()
        #expect(injected.isEmpty)
        let exact = try await client.query("SELECT Id, Name FROM Account WHERE Name = \("Acme 3") LIMIT \(1)", as: Row.self).collect()
        #expect(exact.map(\.Name) == ["Acme 3"])
    }

    @Test func anInListSelectsEveryMatchingRecordAndDuplicatesShowTwice() async throws {
        let (org, client) = try setUp()
        org.seed("Payment__c", records: ["PAY-1", "PAY-2", "PAY-2", "PAY-9"].map { ["Reference__c": .string($0)] })
        struct Row: Decodable, Sendable { var Reference__c: String }
        let wanted = ["PAY-1", "PAY-2", "PAY-3"]
        let rows = try await client.query("SELECT Reference__c FROM Payment__c WHERE Reference__c IN \(wanted)", as: Row.self).collect()
        #expect(rows.map(\.Reference__c) == ["PAY-1", "PAY-2", "PAY-2"])
    }

    @Test(arguments: ["01gSIM1-\(Int.max)", "01gSIM1-\(Int.max - 1)", "01gSIM1--5", "01gSIM1-99999999999999999999"])
    func aQueryPageOffsetFromTheURLNeverTrapsTheSimulator(cursor: String) async throws {
        let org = SalesforceSimulator(options: SimulatorOptions(queryPageSize: 2), clock: clock)
        org.seed("Account", records: (1...5).map { ["Name": .string("Acme \($0)")] })
        let token = try await org.clientCredentialsProvider().fetchToken()
        var components = URLComponents(string: "https://sim.my.salesforce.com/services/data/v62.0/query")!
        components.queryItems = [URLQueryItem(name: "q", value: "SELECT Name FROM Account")]
        _ = try await org.send(HTTPRequest(method: .get, url: components.url!, headers: ["Authorization": "Bearer \(token.value)"]))
        let response = try await org.send(HTTPRequest(
            method: .get, url: URL(string: "https://sim.my.salesforce.com/services/data/v62.0/query/\(cursor)")!,
            headers: ["Authorization": "Bearer \(token.value)"]))
        #expect([200, 400].contains(response.status))
    }

    @Test func tokensNameTheConfiguredOrg() async throws {
        let org = SalesforceSimulator(options: SimulatorOptions(organizationID: "00DTEST00000042"), clock: clock)
        let token = try await org.clientCredentialsProvider().fetchToken()
        #expect(token.identityURL?.hasSuffix("/id/00DTEST00000042/005SIM000000001") == true)
    }

    @Test func unsupportedQueriesAreMalformed() async throws {
        let (_, client) = try setUp()
        struct Row: Decodable, Sendable { var Id: String }
        let error = await #expect(throws: SalesforceError.self) {
            try await client.query(SOQL(unsafeRaw: "SELECT Id FORM Account"), as: Row.self).collect()
        }
        #expect(error?.errorCode == "MALFORMED_QUERY")
        #expect(error?.action == .fixTheCode)
    }

    @Test func anExpiredSessionIsRefreshedOnce() async throws {
        let (org, client) = try setUp()
        _ = try await client.limits()
        org.expireSessions()
        _ = try await client.limits()
        _ = try await client.limits()
        #expect(org.tokensIssued == 2)
        #expect(org.statuses[401] == 1)
    }

    @Test func sessionLifetimeExpiresTokensOnTheClock() async throws {
        let (org, client) = try setUp(SimulatorOptions(sessionLifetime: .seconds(3_600)))
        _ = try await client.limits()
        try await clock.sleep(until: clock.now + .seconds(3_601))
        _ = try await client.limits()
        #expect(org.tokensIssued == 2)
    }

    @Test func theDailyLimitIsEnforcedAndReported() async throws {
        let (org, client) = try setUp(SimulatorOptions(dailyAPILimit: 3))
        for _ in 0..<3 { _ = try await client.limits() }
        #expect(client.apiUsage == APIUsage(used: 3, max: 3))
        // At 100 % of the allowance the budget guard sheds normal work without sending it…
        await #expect(throws: AdmissionError.self) { try await client.limits() }
        #expect(org.statuses[403] == nil)
        // …while critical work still goes out, and meets the org's 403.
        let error = await #expect(throws: SalesforceError.self) { try await client.limits(priority: .critical) }
        #expect(error?.category == .apiLimitExceeded)
        #expect(org.statuses[403] == 1)  // not retried
    }

    @Test func rowLocksAreRetriedForSingleRecordsAndReportedPerRecordInCollections() async throws {
        let (org, client) = try setUp()
        org.injectRowLockContention(count: 2)
        let result = try await client.upsert("Payment__c", externalIdField: "Reference__c", value: "PAY-1", fields: SimPayment(Amount__c: 1, Customer__c: "C"))
        #expect(result.created)
        #expect(org.statuses[400] == 2)
        org.injectRowLockContention(count: 1)
        let rows = (1...3).map { SimPaymentRow(Reference__c: "R-\($0)", Amount__c: 1) }
        let results = try await client.upsertCollection("Payment__c", externalIdField: "Reference__c", records: rows)
        #expect(results.map(\.success) == [false, true, true])
        #expect(results[0].errors.first?.errorCode == "UNABLE_TO_LOCK_ROW")
    }

    @Test func severalMatchesAnswer300() async throws {
        let (org, client) = try setUp()
        org.seed("Payment__c", records: [["Reference__c": "DUP"], ["Reference__c": "DUP"]])
        await #expect(throws: SalesforceClientError.self) {
            try await client.upsert("Payment__c", externalIdField: "Reference__c", value: "DUP", fields: SimPayment(Amount__c: 1, Customer__c: "C"))
        }
    }

    @Test func crudRoundTrip() async throws {
        let (org, client) = try setUp()
        let created = try await client.create("Payment__c", fields: SimPayment(Amount__c: 5, Customer__c: "C-9"))
        let id = try #require(created.id)
        #expect(try await client.get("Payment__c", id: id, as: SimPayment.self) == SimPayment(Amount__c: 5, Customer__c: "C-9"))
        try await client.update("Payment__c", id: id, fields: ["Amount__c": 6])
        #expect(try await client.get("Payment__c", id: id, as: SimPayment.self).Amount__c == 6)
        try await client.delete("Payment__c", id: id)
        await #expect(throws: SalesforceError.self) { try await client.get("Payment__c", id: id, as: SimPayment.self) }
        #expect(org.records(of: "Payment__c").isEmpty)
    }

    @Test func revokedRefreshTokensAnswerInvalidGrant() async throws {
        let org = SalesforceSimulator(clock: clock)
        org.revokeRefreshTokens()
        let provider = OAuthTokenProvider(loginURL: org.options.instanceURL, grant: .refreshToken(refreshToken: "r", clientID: "c", clientSecret: nil), transport: org, clock: clock)
        await #expect(throws: AuthenticationError.refused(TokenRefusal(code: "invalid_grant", detail: "expired access/refresh token", grant: "refresh_token"))) {
            try await provider.fetchToken()
        }
    }

    @Test func wrongClientSecretIsInvalidClientInEveryFlowThatSendsOne() async throws {
        let org = SalesforceSimulator(options: SimulatorOptions(clientID: "id", clientSecret: "right"), clock: clock)
        let credentials = OAuthTokenProvider(loginURL: org.options.instanceURL, grant: .clientCredentials(clientID: "id", clientSecret: "wrong"), transport: org, clock: clock)
        let error = await #expect(throws: AuthenticationError.self) { try await credentials.fetchToken() }
        guard case .refused(let refusal)? = error else { Issue.record("not a refusal: \(String(describing: error))"); return }
        #expect(refusal.code == "invalid_client" && refusal.grant == "client_credentials")
        #expect(OutcomeClassifier().classify(error!) == .authenticationFailed)
        let refresh = OAuthTokenProvider(loginURL: org.options.instanceURL, grant: .refreshToken(refreshToken: "r", clientID: "id", clientSecret: "wrong"), transport: org, clock: clock)
        await #expect(throws: AuthenticationError.refused(TokenRefusal(code: "invalid_client", detail: "invalid client credentials", grant: "refresh_token"))) {
            try await refresh.fetchToken()
        }
        let wrongID = OAuthTokenProvider(loginURL: org.options.instanceURL, grant: .refreshToken(refreshToken: "r", clientID: "other", clientSecret: nil), transport: org, clock: clock)
        await #expect(throws: AuthenticationError.refused(TokenRefusal(code: "invalid_client_id", detail: "client identifier invalid", grant: "refresh_token"))) {
            try await wrongID.fetchToken()
        }
        #expect(org.tokensIssued == 0)
    }

    @Test func withRotationEachRefreshReturnsANewRefreshTokenAndReusingARetiredOneRevokesTheFamily() async throws {
        let org = SalesforceSimulator(options: SimulatorOptions(refreshTokenRotation: true), clock: clock)
        let first = org.issueRefreshToken()
        func provider(_ token: String) -> OAuthTokenProvider {
            OAuthTokenProvider(loginURL: org.options.instanceURL, grant: .refreshToken(refreshToken: token, clientID: "c", clientSecret: nil), transport: org, clock: clock)
        }
        let one = try await provider(first).fetchToken()
        let second = try #require(one.refreshToken)
        #expect(second != first)
        let two = try await provider(second).fetchToken()
        #expect(two.refreshToken != nil && two.refreshToken != second)
        #expect(org.refreshTokenRevocations == 0)
        // The retired one again: the family is revoked, even the newest refresh token, and its sessions end.
        await #expect(throws: AuthenticationError.self) { try await provider(first).fetchToken() }
        #expect(org.refreshTokenRevocations == 1)
        await #expect(throws: AuthenticationError.self) { try await provider(two.refreshToken!).fetchToken() }
        let client = try SalesforceClient(configuration: SalesforceConfiguration(instanceURL: org.options.instanceURL), transport: org,
                                          tokenProvider: StaticTokenProvider(two), clock: clock)
        await #expect(throws: AuthenticationError.tokenRejected(operation: "limits")) { try await client.limits() }
        // A refresh token the org never issued is refused without revoking anything more.
        await #expect(throws: AuthenticationError.self) { try await provider("made-up").fetchToken() }
        #expect(org.refreshTokenRevocations == 1)
        #expect(org.tokenRequests == 5)
    }

    @Test func soqlSubsetParserRejectsWhatItDoesNotUnderstand() async throws {
        let malformed = [
            "SELECT Id FROM Account LIMIT 5 extra", "SELECT FROM Account",
            "SELECT Id FROM Account WHERE Name = 'unterminated", #"SELECT Id FROM Account WHERE Name = 'bad \q escape'"#,
            "SELECT Id FROM Account WHERE Name IN ('a', 'b'", "SELECT Id FROM Account WHERE Name IN ()",
        ]
        for text in malformed { #expect(try await queryStatus(text) == 400, "\(text)") }
        #expect(try await queryStatus(#"select Id, Name from Account where Name = 'it\'s' limit 3"#) == 200)
    }

    /// The status the simulator answers for a raw query text.
    private func queryStatus(_ text: String) async throws -> Int {
        let org = SalesforceSimulator(clock: VirtualClock())
        let token = try await org.clientCredentialsProvider().fetchToken()
        var components = URLComponents(string: "https://sim.my.salesforce.com/services/data/v62.0/query")!
        components.queryItems = [URLQueryItem(name: "q", value: text)]
        let response = try await org.send(HTTPRequest(method: .get, url: components.url!, headers: ["Authorization": "Bearer \(token.value)"]))
        if response.status == 400 { #expect(OutcomeClassifier.parseErrors(response.body).first?.errorCode == "MALFORMED_QUERY") }
        return response.status
    }
}
