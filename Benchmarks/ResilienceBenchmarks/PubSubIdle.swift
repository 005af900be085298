#if PubSubGRPC // built with `--traits PubSubGRPC`
import Foundation
import SalesforceResilience
import SalesforceResiliencePubSub
import SalesforceResiliencePubSubGRPC
import SalesforceResiliencePubSubGRPCTesting
import SalesforceResilienceTesting

// (o) CPU of a subscriber that is subscribed and idle: a PubSubSubscriber over
// GRPCPubSubConnection to the loopback gRPC simulator, real clocks, 1,000 events handled, then
// 20 s with nothing to deliver. The figure is this whole process's CPU (client, server and
// their event loops) per second of wall time.
nonisolated func benchmarkO() async throws {
    let clock = SystemClock()
    let bus = InMemoryPubSub(clock: clock)
    let schema = #"{"type": "record", "name": "E", "fields": [{"name": "Reference__c", "type": "string"}]}"#
    bus.register(schemaID: "S1", json: schema)
    let avro = try AvroSchema(json: schema)
    for n in 1...1_000 {
        bus.publish(topic: "/event/E", id: "E-\(n)", schemaID: "S1",
                    payload: try AvroEncoder().encode(.record(AvroRecord(name: "E", names: ["Reference__c"], values: [.string("R-\(n)")])), as: avro))
    }
    let server = try await PubSubGRPCServer(serving: bus)
    let connection = try GRPCPubSubConnection(configuration: .init(host: "127.0.0.1", port: server.port, usesTLS: false))
    let tokens = TokenStore(provider: StaticTokenProvider(AccessToken(
        value: "bench", instanceURL: URL(string: "https://bench.my.salesforce.com"), identityURL: "https://login.salesforce.com/id/00Dbench/005bench")))
    let handled = Lock(0)
    let subscriber = PubSubSubscriber(topic: "/event/E", connection: connection, tokens: tokens, store: InMemoryReplayStore(),
                                      options: SubscriptionOptions(startWithoutCheckpoint: .earliest))
    let run = Task { try await subscriber.run { _ in handled.withLock { $0 += 1 } } }
    while handled.withLock({ $0 }) < 1_000 { try await Task.sleep(for: .milliseconds(10)) }
    try await Task.sleep(for: .seconds(1))
    let cpuBefore = cpuSeconds()
    let started = ContinuousClock.now
    try await Task.sleep(for: .seconds(20))
    let wall = (ContinuousClock.now - started).secondsValue
    let share = (cpuSeconds() - cpuBefore) / wall
    run.cancel()
    _ = try? await run.value
    await connection.shutdown()
    await server.stop()
    Report.say(String(format: "(o) a gRPC subscriber, subscribed and idle for %.0f s after 1,000 events: %.4f of a core (client and simulator together)", wall, share))
    Report.figure("pubsub_idle_cpu_share", share, unit: "share of a core", target: .atMost(0.01),
                  note: "subscriber, gRPC client and loopback simulator in one process")
}
#endif
