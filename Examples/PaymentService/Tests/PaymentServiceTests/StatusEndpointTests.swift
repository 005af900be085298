import Foundation
import SalesforceResilience
import SalesforceResilienceTesting
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif

/// `/metrics`, `/health` and `/ready` of the running executable, over HTTP.
@Suite(.serialized) struct StatusEndpointTests {
    @Test(.timeLimit(.minutes(1))) func metricsHealthAndReadinessAnswerWithNamedChecks() async throws {
        let server = try LoopbackHTTPServer { url in SalesforceSimulator(options: SimulatorOptions(instanceURL: url), clock: SystemClock()) }
        defer { server.stop() }
        let journal = FileManager.default.temporaryDirectory.appendingPathComponent("status-\(UUID().uuidString).journal").path
        let service = try ServiceProcess.launch(
            ["--instance-url", server.baseURL.absoluteString, "--allow-http-loopback", "--journal", journal, "--count", "50", "--rate", "50",
             "--metrics-port", "0", "--log-format", "json", "--log-level", "debug"],
            environment: ["SF_CLIENT_ID": "service", "SF_CLIENT_SECRET": "secret"])
        defer { service.send(SIGKILL) }
        let listening = try #require(await service.waitForLine(containing: "status server listening"))
        let line = try JSONDecoder().decode([String: JSONValue].self, from: Data(listening.utf8))
        let url = try #require(line["metadata"]?.objectValue?["url"]?.stringValue.flatMap(URL.init(string:)))
        #expect(line["level"] == .string("info"))
        _ = await service.waitForLine(containing: "salesforce call completed")  // at least one call went out

        let transport = URLSessionTransport()
        let metrics = try await transport.send(HTTPRequest(method: .get, url: url.appendingPathComponent("metrics")))
        #expect(metrics.status == 200)
        let text = String(decoding: metrics.body, as: UTF8.self)
        for name in ["salesforce_calls_total", "salesforce_call_duration_seconds", "salesforce_api_requests_used", "salesforce_outbox_backlog",
                     "salesforce_operating_mode", "salesforce_breaker_state"] {
            #expect(text.contains(name), "no \(name) in /metrics")
        }
        for (path, status) in [("ready", "ready"), ("health", "alive")] {
            let response = try await transport.send(HTTPRequest(method: .get, url: url.appendingPathComponent(path)))
            #expect(response.status == 200, "/\(path)")
            let report = try JSONDecoder().decode([String: JSONValue].self, from: response.body)
            #expect(report["status"] == .string(status))
            let names = report["checks"]?.arrayValue?.compactMap { $0.objectValue?["name"]?.stringValue } ?? []
            #expect(Set(names).isSuperset(of: ["worker", "token", "operating mode", "API usage", "backlog"]), "/\(path): \(names)")
        }
        #expect(try await transport.send(HTTPRequest(method: .get, url: url.appendingPathComponent("nope"))).status == 404)
        service.send(SIGTERM)
        #expect(await service.exitStatus() == 0)
    }
}
