import SalesforceResilience

/// Counts what the summary reports, from events and from the transport.
final class PosterCounters: Sendable {
    struct Counts {
        var retries = 0
        var breakerOpens = 0
        var tokenRefreshes = 0
        var apiCalls = 0
        var deadLettered = 0
    }

    let counts = Lock(Counts())

    var sink: ResilienceEventSink {
        ResilienceEventSink { [self] event in
            counts.withLock { counts in
                switch event {
                case .retryScheduled: counts.retries += 1
                case .breakerStateChanged(_, _, .open): counts.breakerOpens += 1
                case .tokenRefreshStarted: counts.tokenRefreshes += 1
                case .deadLettered: counts.deadLettered += 1
                default: break
                }
            }
        }
    }

    var snapshot: Counts { counts.withLock { $0 } }
}

/// Counts every request that reaches the network (or the simulator), token requests included.
struct CountingTransport: HTTPTransport {
    let inner: any HTTPTransport
    let counters: PosterCounters

    func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        counters.counts.withLock { $0.apiCalls += 1 }
        return try await inner.send(request)
    }
}
