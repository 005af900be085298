import Foundation
@testable import SalesforceResilience
import SalesforceResilienceTesting
import Testing

/// The credential store contract, for the in-memory and the file store alike, and the file
/// store's promises on disk: owner-only, never torn, never someone else's file.
@Suite struct CredentialStoreTests {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("credentials-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func path(_ name: String = "token.store") -> String { directory.appendingPathComponent(name).path }

    func token(_ n: Int) -> AccessToken {
        AccessToken(value: "00D000000000001!ACCESS\(n)", instanceURL: URL(string: "https://acme.my.salesforce.com"), refreshToken: "REFRESH\(n)")
    }

    func stores() -> [any CredentialStore] {
        [InMemoryCredentialStore(), FileCredentialStore(path: path())]
    }

    @Test func compareAndSwapStoresOnlyOverTheExpectedRevision() async throws {
        for store in stores() {
            #expect(try await store.load() == nil)
            guard case .stored(let first) = try await store.replace(expected: nil, with: token(1), owner: "app") else {
                Issue.record("the first write into an empty store was refused"); continue
            }
            #expect(first.revision == 1 && first.token == token(1) && first.owner == "app")
            // A writer that still believes the store is empty loses, and is told what is there.
            #expect(try await store.replace(expected: nil, with: token(9), owner: "app") == .superseded(first))
            guard case .stored(let second) = try await store.replace(expected: 1, with: token(2), owner: "app") else {
                Issue.record("a write over the current revision was refused"); continue
            }
            #expect(second.revision == 2)
            #expect(try await store.replace(expected: 1, with: token(9), owner: "app") == .superseded(second))
            let loaded = try #require(try await store.load())
            #expect(loaded.token == token(2) && loaded.token.refreshToken == "REFRESH2" && loaded.revision == 2)
        }
    }

    @Test func theRefreshLockAdmitsOneHolderAtATime() async throws {
        for store in stores() {
            let inside = Lock(0)
            let most = Lock(0)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        try await store.withRefreshLock(timeout: .seconds(10)) {
                            let now = inside.withLock { $0 += 1; return $0 }
                            most.withLock { $0 = max($0, now) }
                            await Task.yield()
                            await Task.yield()
                            inside.withLock { $0 -= 1 }
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(most.withLock { $0 } == 1)
        }
    }

    @Test func aFileStoreIsOwnerOnlyAndWrittenByRename() async throws {
        let store = FileCredentialStore(path: path())
        _ = try await store.replace(expected: nil, with: token(1), owner: "app")
        let attributes = try FileManager.default.attributesOfItem(atPath: path())
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(!FileManager.default.fileExists(atPath: path() + ".tmp"))
        let text = try String(contentsOfFile: path(), encoding: .utf8)
        #expect(text.hasPrefix(#"{"format":"SalesforceResilience.Credential","version":1}"#))
        // A second store on the same file (another process) sees the same credential.
        #expect(try await FileCredentialStore(path: path()).load()?.token == token(1))
    }

    @Test func aFileThatIsNotACredentialStoreIsRefusedAndLeftAlone() async throws {
        for contents in ["my notes, no newline", "{\"format\":\"SomethingElse\",\"version\":1}\n{}\n", "#!/bin/sh\necho hi\n"] {
            try contents.write(toFile: path(), atomically: false, encoding: .utf8)
            let store = FileCredentialStore(path: path())
            let error = await #expect(throws: CredentialStoreError.self) { try await store.load() }
            #expect(error?.description.contains("is not a credential store") == true)
            await #expect(throws: CredentialStoreError.self) { try await store.replace(expected: nil, with: token(1), owner: "app") }
            #expect(try String(contentsOfFile: path(), encoding: .utf8) == contents)
            #expect(OutcomeClassifier().classify(error!) == .clientError)
        }
    }

    @Test func aChangedByteOrANewerFormatIsRefused() async throws {
        let store = FileCredentialStore(path: path())
        _ = try await store.replace(expected: nil, with: token(1), owner: "app")
        let good = try String(contentsOfFile: path(), encoding: .utf8)
        try good.replacingOccurrences(of: "REFRESH1", with: "REFRESH2").write(toFile: path(), atomically: true, encoding: .utf8)
        let corrupt = await #expect(throws: CredentialStoreError.self) { try await store.load() }
        #expect(corrupt?.description.contains("corrupt") == true)
        try good.replacingOccurrences(of: #""version":1"#, with: #""version":2"#).write(toFile: path(), atomically: true, encoding: .utf8)
        let newer = await #expect(throws: CredentialStoreError.self) { try await store.load() }
        #expect(newer?.description.contains("newer version") == true)
    }

    @Test func aWriteThatFailsLeavesTheStoredCredentialWhole() async throws {
        let healthy = FileCredentialStore(path: path())
        _ = try await healthy.replace(expected: nil, with: token(1), owner: "app")
        let before = try Data(contentsOf: URL(fileURLWithPath: path()))
        // The disk fills after 20 bytes of the new file.
        let written = Lock(0)
        let full = JournalIO(
            write: { descriptor, bytes in
                let allowed = written.withLock { total in let n = min(bytes.count, 20 - total); total += max(0, n); return n }
                guard allowed > 0 else { errno = ENOSPC; return -1 }
                return JournalIO.posix.write(descriptor, UnsafeRawBufferPointer(rebasing: bytes[..<allowed]))
            },
            fsync: JournalIO.posix.fsync)
        let failing = FileCredentialStore(path: path(), clock: SystemClock(), io: full)
        await #expect(throws: CredentialStoreError.self) { try await failing.replace(expected: 1, with: token(2), owner: "app") }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path())) == before)
        #expect(!FileManager.default.fileExists(atPath: path() + ".tmp"))
        #expect(try await healthy.load()?.token == token(1))
        // A temporary file left by a process killed mid-write changes nothing either.
        try Data("{\"format\":\"SalesforceResilience.Credential\",\"vers".utf8).write(to: URL(fileURLWithPath: path() + ".tmp"))
        #expect(try await healthy.load()?.revision == 1)
        guard case .stored = try await healthy.replace(expected: 1, with: token(2), owner: "app") else { Issue.record("write refused"); return }
        #expect(try await healthy.load()?.token == token(2))
    }

    @Test func theRefreshLockWaitsForAnotherHolderAndGivesUpAtItsTimeout() async throws {
        let clock = VirtualClock(mode: .autoAdvance)
        let store = FileCredentialStore(path: path(), clock: clock)
        // Another holder: the lock file locked through a descriptor of its own.
        guard case .acquired(let other) = FileLock.tryAcquire(path() + ".refresh-lock") else { Issue.record("could not lock"); return }
        let error = await #expect(throws: CredentialStoreError.self) {
            try await store.withRefreshLock(timeout: .seconds(30)) { 1 }
        }
        #expect(error?.isTransient == true && error?.description.contains("another process is refreshing") == true)
        FileLock.release(other)
        #expect(try await store.withRefreshLock(timeout: .seconds(30)) { 7 } == 7)
    }

    @Test func aStoreHoldingAnotherAppsCredentialIsRefused() async throws {
        let store = InMemoryCredentialStore(token: token(1), owner: "refresh_token another-app@login.salesforce.com")
        let provider = OAuthTokenProvider(
            loginURL: URL(string: "https://login.salesforce.com")!, grant: .refreshToken(refreshToken: "R", clientID: "app", clientSecret: nil),
            transport: MockTransport { _ in tokenResponse("T") })
        let tokens = TokenStore(provider: provider, clock: VirtualClock(), credentials: store)
        let error = await #expect(throws: CredentialStoreError.self) { try await tokens.token() }
        #expect(error?.description.contains("another-app") == true)
        #expect(await store.load()?.token == token(1))
    }
}
