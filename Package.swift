// swift-tools-version: 6.1
// SalesforceResilience: resilient Salesforce calls with zero package dependencies by default.
// The integrations with the server-side Swift packages are behind package traits that are off
// by default: a package that depends on this one without naming a trait fetches nothing else.
import PackageDescription

/// A product of a package this one depends on, only when `trait` is enabled.
func gated(_ product: String, _ package: String, _ trait: String) -> Target.Dependency {
    .product(name: product, package: package, condition: .when(traits: [trait]))
}

let package = Package(
    name: "SalesforceResilience",
    platforms: [.macOS(.v15), .iOS(.v18)],
    products: [
        .library(name: "SalesforceResilience", targets: ["SalesforceResilience"]),
        .library(name: "SalesforceResilienceTesting", targets: ["SalesforceResilienceTesting"]),
        // Empty unless their trait is enabled.
        .library(name: "SalesforceResilienceAsyncHTTPClient", targets: ["SalesforceResilienceAsyncHTTPClient"]),
        .library(name: "SalesforceResilienceObservability", targets: ["SalesforceResilienceObservability"]),
        .library(name: "SalesforceResiliencePostgres", targets: ["SalesforceResiliencePostgres"]),
        .library(name: "SalesforceResiliencePostgresTesting", targets: ["SalesforceResiliencePostgresTesting"]),
        .library(name: "SalesforceResiliencePubSub", targets: ["SalesforceResiliencePubSub"]),
        .library(name: "SalesforceResiliencePubSubGRPC", targets: ["SalesforceResiliencePubSubGRPC"]),
        .library(name: "SalesforceResiliencePubSubGRPCTesting", targets: ["SalesforceResiliencePubSubGRPCTesting"]),
    ],
    traits: [
        .trait(name: "AsyncHTTPClient", description: "SalesforceResilienceAsyncHTTPClient: the transport over AsyncHTTPClient (SwiftNIO)."),
        .trait(name: "Observability", description: "SalesforceResilienceObservability: events to swift-log, swift-metrics and swift-distributed-tracing."),
        .trait(name: "PostgreSQL", description: "SalesforceResiliencePostgres (outbox, token store and fleet state on PostgreSQL) and SalesforceResiliencePostgresTesting."),
        .trait(name: "PubSub", description: "SalesforceResiliencePubSub: Platform Events and change events in, from the Pub/Sub API (Avro decoding, durable replay ids)."),
        .trait(
            name: "PubSubGRPC",
            description: "SalesforceResiliencePubSubGRPC: the Pub/Sub API over gRPC (grpc-swift 2, SwiftNIO, swift-protobuf), and its loopback simulator in SalesforceResiliencePubSubGRPCTesting. Enables PubSub.",
            enabledTraits: ["PubSub"]
        ),
        .default(enabledTraits: []),
    ],
    dependencies: [
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.3"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        .target(name: "SalesforceResilience", dependencies: ["CurlLoader"]),
        // libcurl's interface, loaded at run time (dlopen): no library is linked, no header needed.
        .target(name: "CurlLoader"),
        .target(
            name: "SalesforceResilienceAsyncHTTPClient",
            dependencies: [
                "SalesforceResilience",
                gated("AsyncHTTPClient", "async-http-client", "AsyncHTTPClient"),
                gated("NIOCore", "swift-nio", "AsyncHTTPClient"),
                gated("NIOPosix", "swift-nio", "AsyncHTTPClient"),
                gated("NIOHTTP1", "swift-nio", "AsyncHTTPClient"),
            ]
        ),
        .target(
            name: "SalesforceResilienceObservability",
            dependencies: [
                "SalesforceResilience",
                // For SubscriptionTelemetry, with the PubSub trait (an empty module without it).
                "SalesforceResiliencePubSub",
                gated("Logging", "swift-log", "Observability"),
                gated("Metrics", "swift-metrics", "Observability"),
                gated("Tracing", "swift-distributed-tracing", "Observability"),
            ]
        ),
        .target(
            name: "SalesforceResiliencePostgres",
            dependencies: [
                "SalesforceResilience",
                // For PostgresReplayStore, with the PubSub trait (an empty module without it).
                "SalesforceResiliencePubSub",
                gated("PostgresNIO", "postgres-nio", "PostgreSQL"),
                gated("Logging", "swift-log", "PostgreSQL"),
            ]
        ),
        // A throwaway PostgreSQL server and a schema per test, for tests of the stores.
        .target(
            name: "SalesforceResiliencePostgresTesting",
            dependencies: [
                "SalesforceResiliencePostgres", "SalesforceResilienceTesting",
                gated("PostgresNIO", "postgres-nio", "PostgreSQL"),
            ],
            exclude: ["Scripts"]
        ),
        .target(
            name: "SalesforceResiliencePubSub",
            dependencies: ["SalesforceResilience"]
        ),
        // The Pub/Sub API's gRPC client: generated messages and stubs (committed) and the
        // connection a PubSubSubscriber reads through.
        .target(
            name: "SalesforceResiliencePubSubGRPC",
            dependencies: [
                "SalesforceResilience", "SalesforceResiliencePubSub",
                gated("GRPCCore", "grpc-swift-2", "PubSubGRPC"),
                gated("GRPCNIOTransportHTTP2", "grpc-swift-nio-transport", "PubSubGRPC"),
                gated("GRPCProtobuf", "grpc-swift-protobuf", "PubSubGRPC"),
                gated("SwiftProtobuf", "swift-protobuf", "PubSubGRPC"),
            ],
            exclude: ["Proto"]
        ),
        // A loopback gRPC server speaking eventbus.v1.PubSub over an InMemoryPubSub bus.
        .target(
            name: "SalesforceResiliencePubSubGRPCTesting",
            dependencies: [
                "SalesforceResiliencePubSubGRPC", "SalesforceResilienceTesting",
                gated("GRPCCore", "grpc-swift-2", "PubSubGRPC"),
                gated("GRPCNIOTransportHTTP2", "grpc-swift-nio-transport", "PubSubGRPC"),
                gated("NIOPosix", "swift-nio", "PubSubGRPC"),
                gated("SwiftProtobuf", "swift-protobuf", "PubSubGRPC"),
            ]
        ),
        .target(
            name: "SalesforceResilienceTesting",
            // SalesforceResiliencePubSub is an empty module unless the PubSub trait is on.
            dependencies: ["SalesforceResilience", "SalesforceResiliencePubSub"]
        ),
        .target(
            name: "PaymentPosterKit",
            dependencies: ["SalesforceResilience", "SalesforceResilienceTesting"],
            path: "Examples/PaymentPoster/Sources/PaymentPosterKit"
        ),
        .executableTarget(
            name: "PaymentPoster",
            dependencies: ["PaymentPosterKit"],
            path: "Examples/PaymentPoster/Sources/PaymentPoster"
        ),
        .executableTarget(
            name: "ResilienceBenchmarks",
            dependencies: ["SalesforceResilience", "SalesforceResilienceTesting", "PaymentPosterKit", "AllocationCounter",
                           // Empty modules unless built with the PubSubGRPC trait: benchmark (o).
                           "SalesforceResiliencePubSub", "SalesforceResiliencePubSubGRPC", "SalesforceResiliencePubSubGRPCTesting"],
            path: "Benchmarks/ResilienceBenchmarks"
        ),
        // Counts the benchmark process's heap allocations (Linux); linked into nothing else.
        .target(name: "AllocationCounter", path: "Benchmarks/AllocationCounter"),
        .testTarget(
            name: "PaymentPosterTests",
            // The executable is a dependency so the process-level tests can launch it.
            dependencies: ["PaymentPoster", "PaymentPosterKit", "SalesforceResilience", "SalesforceResilienceTesting"]
        ),
        // A process of an integration, started by the tests that share tokens across processes.
        .executableTarget(
            name: "TokenSharingDrill",
            dependencies: ["SalesforceResilience"],
            path: "Tests/TokenSharingDrill"
        ),
        // A process that works a file journal hard, killed with SIGKILL by JournalKillTests.
        .executableTarget(
            name: "JournalDrill",
            dependencies: ["SalesforceResilience"],
            path: "Tests/JournalDrill"
        ),
        .testTarget(
            name: "SalesforceResilienceTests",
            dependencies: ["SalesforceResilience", "SalesforceResilienceTesting", "TokenSharingDrill", "JournalDrill"]
        ),
        // Every ```swift block of the documentation, generated by Docs/snippets.py: it must compile.
        .testTarget(
            name: "DocSnippetTests",
            dependencies: ["SalesforceResilience", "SalesforceResilienceTesting"]
        ),
        .testTarget(
            name: "SalesforceResilienceTestingTests",
            dependencies: ["SalesforceResilience", "SalesforceResilienceTesting"]
        ),
        // The integrations' tests: empty unless their trait is enabled (.ci/run enables them all).
        .testTarget(
            name: "SalesforceResilienceAsyncHTTPClientTests",
            dependencies: [
                "SalesforceResilienceAsyncHTTPClient", "SalesforceResilienceTesting",
                gated("AsyncHTTPClient", "async-http-client", "AsyncHTTPClient"),
            ]
        ),
        .testTarget(
            name: "SalesforceResilienceObservabilityTests",
            dependencies: [
                "SalesforceResilienceObservability", "SalesforceResilienceTesting", "SalesforceResiliencePubSub",
                gated("Logging", "swift-log", "Observability"),
                gated("Tracing", "swift-distributed-tracing", "Observability"),
                gated("MetricsTestKit", "swift-metrics", "Observability"),
                gated("InMemoryTracing", "swift-distributed-tracing", "Observability"),
            ]
        ),
        .testTarget(
            name: "SalesforceResiliencePostgresTests",
            dependencies: [
                "SalesforceResiliencePostgres", "SalesforceResiliencePostgresTesting", "SalesforceResilienceTesting", "SalesforceResiliencePubSub",
                gated("PostgresNIO", "postgres-nio", "PostgreSQL"),
            ]
        ),
        .testTarget(
            name: "SalesforceResiliencePubSubTests",
            dependencies: ["SalesforceResiliencePubSub", "SalesforceResilienceTesting"]
        ),
        .testTarget(
            name: "SalesforceResiliencePubSubGRPCTests",
            dependencies: [
                "SalesforceResiliencePubSubGRPC", "SalesforceResiliencePubSubGRPCTesting", "SalesforceResilienceTesting",
                gated("GRPCCore", "grpc-swift-2", "PubSubGRPC"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
