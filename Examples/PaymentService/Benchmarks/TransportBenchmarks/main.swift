import AsyncHTTPClient
import Foundation
import SalesforceResilience
import SalesforceResilienceAsyncHTTPClient
import SalesforceResilienceTesting
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

// URLSessionTransport and AsyncHTTPClientTransport side by side, against the simulator served
// over loopback HTTP with keep-alive: requests per second, CPU per request and p99 latency at
// 1, 8 and 32 concurrent calls. Each request is an authorised `GET …/limits` answered in
// microseconds by the simulator, so the figures are the transports' own costs.
//   swift run -c release TransportBenchmarks [requests per run, default 2000]

func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

struct Figures {
    var requestsPerSecond: Double
    var cpuMicrosecondsPerRequest: Double
    var p99Milliseconds: Double
}

/// The shared state of one run: the next request's number and the latencies seen.
final class Tally: Sendable {
    let next = Mutex(0)
    let latencies = Mutex<[Double]>([])

    /// Takes a request number; `false` when all are taken.
    func take(below limit: Int) -> Bool { next.withLock { counter in defer { counter += 1 }; return counter < limit } }
}

/// `requests` calls through `transport`, `concurrency` at a time.
func measure(_ transport: any HTTPTransport, url: URL, token: String, requests: Int, concurrency: Int) async throws -> Figures {
    let request = HTTPRequest(method: .get, url: url, headers: ["Authorization": "Bearer \(token)", "Accept": "application/json"])
    let tally = Tally()
    let cpuBefore = cpuSeconds()
    let started = ContinuousClock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<concurrency {
            group.addTask {
                while tally.take(below: requests) {
                    let begin = ContinuousClock.now
                    let response = try await transport.send(request)
                    guard response.status == 200 else { throw TransportError.ambiguous(.other, "status \(response.status)") }
                    let elapsed = ContinuousClock.now - begin
                    tally.latencies.withLock { $0.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1e3) }
                }
            }
        }
        try await group.waitForAll()
    }
    let wall = ContinuousClock.now - started
    let seconds = Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18
    let sorted = tally.latencies.withLock { $0 }.sorted()
    return Figures(requestsPerSecond: Double(requests) / seconds, cpuMicrosecondsPerRequest: (cpuSeconds() - cpuBefore) / Double(requests) * 1e6,
                   p99Milliseconds: sorted[min(sorted.count - 1, Int(Double(sorted.count) * 0.99))])
}

func runBenchmarks() async throws {
    let requests = CommandLine.arguments.dropFirst().first.flatMap(Int.init) ?? 2_000
    let server = try LoopbackHTTPServer { url in SalesforceSimulator(options: SimulatorOptions(instanceURL: url), clock: SystemClock()) }
    defer { server.stop() }
    let token = try await OAuthTokenProvider(loginURL: server.baseURL, grant: .clientCredentials(clientID: "bench", clientSecret: "bench"),
                                             transport: URLSessionTransport(), allowHTTPLoopback: true).fetchToken().value
    let url = server.baseURL.appendingPathComponent("services/data/v62.0/limits")
    let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup,
                            configuration: AsyncHTTPClientTransport.clientConfiguration(.init(maxConnectionsPerHost: 32)))
    let asyncHTTPClient = AsyncHTTPClientTransport(client: client)
    let urlSession = URLSessionTransport()
    print("TransportBenchmarks — \(ProcessInfo.processInfo.activeProcessorCount) cores, \(requests) requests per run, loopback keep-alive server")
    for concurrency in [1, 8, 32] {
        _ = try await measure(urlSession, url: url, token: token, requests: 50, concurrency: concurrency)      // warm up
        _ = try await measure(asyncHTTPClient, url: url, token: token, requests: 50, concurrency: concurrency)
        let session = try await measure(urlSession, url: url, token: token, requests: requests, concurrency: concurrency)
        let ahc = try await measure(asyncHTTPClient, url: url, token: token, requests: requests, concurrency: concurrency)
        print(String(format: "concurrency %2d: URLSession %6.0f req/s, %5.0f µs CPU/req, p99 %5.2f ms | AsyncHTTPClient %6.0f req/s, %5.0f µs CPU/req, p99 %5.2f ms | AHC/URLSession: %.1f× throughput, %.2f× CPU, %.2f× p99",
                     concurrency, session.requestsPerSecond, session.cpuMicrosecondsPerRequest, session.p99Milliseconds,
                     ahc.requestsPerSecond, ahc.cpuMicrosecondsPerRequest, ahc.p99Milliseconds,
                     ahc.requestsPerSecond / session.requestsPerSecond, ahc.cpuMicrosecondsPerRequest / session.cpuMicrosecondsPerRequest,
                     ahc.p99Milliseconds / session.p99Milliseconds))
    }
    print("connections accepted by the server: \(server.connectionsAccepted) (URLSession opens one per request; AsyncHTTPClient keeps a pool)")
    try await client.shutdown()
}

try await runBenchmarks()
