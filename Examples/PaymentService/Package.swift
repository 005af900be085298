// swift-tools-version: 6.1
// PaymentService: SalesforceResilience inside a server-side Swift service, the example for
// server-side teams. It depends on the root by path with the traits it needs (AsyncHTTPClient,
// Observability, PostgreSQL, PubSub, PubSubGRPC), as an integrator's package depends on it by URL.
import PackageDescription

let package = Package(
    name: "PaymentService",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "PaymentService", targets: ["PaymentService"]),
    ],
    traits: [
        .trait(name: "EmbeddedSimulator", description: "The service can serve an embedded Salesforce simulator (no --instance-url) and has the simulator command."),
        .default(enabledTraits: ["EmbeddedSimulator"]),
    ],
    dependencies: [
        .package(name: "SalesforceResilience", path: "../..", traits: ["AsyncHTTPClient", "Observability", "PostgreSQL", "PubSub", "PubSubGRPC"]),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        // For the documentation's JWT signing example only (DocSnippetTests).
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // The service: production code, which never links SalesforceResilienceTesting.
        .target(
            name: "PaymentServiceKit",
            dependencies: [
                .product(name: "SalesforceResilience", package: "SalesforceResilience"),
                .product(name: "SalesforceResilienceAsyncHTTPClient", package: "SalesforceResilience"),
                .product(name: "SalesforceResilienceObservability", package: "SalesforceResilience"),
                .product(name: "SalesforceResiliencePostgres", package: "SalesforceResilience"),
                .product(name: "SalesforceResiliencePubSub", package: "SalesforceResilience"),
                .product(name: "SalesforceResiliencePubSubGRPC", package: "SalesforceResilience"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // The embedded org and the `simulator` command, on the library's simulator.
        .target(
            name: "PaymentServiceSimulator",
            dependencies: [
                "PaymentServiceKit",
                .product(name: "SalesforceResilience", package: "SalesforceResilience"),
                .product(name: "SalesforceResilienceTesting", package: "SalesforceResilience"),
                .product(name: "SalesforceResiliencePubSub", package: "SalesforceResilience"),
                .product(name: "SalesforceResiliencePubSubGRPCTesting", package: "SalesforceResilience"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "PaymentService",
            dependencies: [
                "PaymentServiceKit",
                .target(name: "PaymentServiceSimulator", condition: .when(traits: ["EmbeddedSimulator"])),
                .product(name: "SalesforceResiliencePubSub", package: "SalesforceResilience"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "TransportBenchmarks",
            dependencies: [
                .product(name: "SalesforceResilienceAsyncHTTPClient", package: "SalesforceResilience"),
                .product(name: "SalesforceResilience", package: "SalesforceResilience"),
                .product(name: "SalesforceResilienceTesting", package: "SalesforceResilience"),
            ],
            path: "Benchmarks/TransportBenchmarks"
        ),
        .executableTarget(
            name: "FleetBenchmarks",
            dependencies: [
                .product(name: "SalesforceResilienceAsyncHTTPClient", package: "SalesforceResilience"),
                .product(name: "SalesforceResiliencePostgres", package: "SalesforceResilience"),
                .product(name: "SalesforceResilience", package: "SalesforceResilience"),
                .product(name: "SalesforceResilienceTesting", package: "SalesforceResilience"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/FleetBenchmarks"
        ),
        .executableTarget(
            name: "EventsBenchmarks",
            dependencies: [
                "PaymentServiceKit", "PaymentServiceSimulator",
                .product(name: "SalesforceResilience", package: "SalesforceResilience"),
                .product(name: "SalesforceResiliencePubSub", package: "SalesforceResilience"),
                .product(name: "SalesforceResilienceTesting", package: "SalesforceResilience"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/EventsBenchmarks"
        ),
        // The server-side ```swift blocks of the documentation, generated by Docs/snippets.py.
        .testTarget(
            name: "DocSnippetTests",
            dependencies: [
                .product(name: "SalesforceResiliencePubSub", package: "SalesforceResilience"),
                .product(name: "SalesforceResiliencePubSubGRPC", package: "SalesforceResilience"),
                .product(name: "SalesforceResilienceAsyncHTTPClient", package: "SalesforceResilience"),
                .product(name: "SalesforceResilienceObservability", package: "SalesforceResilience"),
                .product(name: "SalesforceResilience", package: "SalesforceResilience"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "PaymentServiceTests",
            // The executable is a dependency so the process-level tests can launch it.
            dependencies: [
                "PaymentService", "PaymentServiceKit",
                .product(name: "SalesforceResiliencePostgres", package: "SalesforceResilience"),
                .product(name: "SalesforceResiliencePostgresTesting", package: "SalesforceResilience"),
                .product(name: "SalesforceResilienceTesting", package: "SalesforceResilience"),
                .product(name: "SalesforceResiliencePubSub", package: "SalesforceResilience"),
                .product(name: "SalesforceResiliencePubSubGRPCTesting", package: "SalesforceResilience"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
