// swift-tools-version: 6.0
// PaymentService: SalesforceResilience inside a server-side Swift service. A package of its own,
// beside the root, so that the root keeps no package dependencies: it depends on the root by
// path and on the server-side packages of the Swift ecosystem.
import PackageDescription

let package = Package(
    name: "PaymentService",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "SalesforceResilienceAsyncHTTPClient", targets: ["SalesforceResilienceAsyncHTTPClient"]),
        .library(name: "SalesforceResilienceObservability", targets: ["SalesforceResilienceObservability"]),
        .library(name: "SalesforceResiliencePostgres", targets: ["SalesforceResiliencePostgres"]),
        .executable(name: "PaymentService", targets: ["PaymentService"]),
    ],
    dependencies: [
        .package(name: "SalesforceResilience", path: "../.."),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.3"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        // For the documentation's JWT signing example only (DocSnippetTests).
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        .target(
            name: "SalesforceResilienceAsyncHTTPClient",
            dependencies: [
                .product(name: "SalesforceResilience", package: "SalesforceResilience"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .target(
            name: "SalesforceResilienceObservability",
            dependencies: [
                .product(name: "SalesforceResilience", package: "SalesforceResilience"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]
        ),
        .target(
            name: "SalesforceResiliencePostgres",
            dependencies: [
                .product(name: "SalesforceResilience", package: "SalesforceResilience"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "PaymentServiceKit",
            dependencies: [
                "SalesforceResilienceAsyncHTTPClient",
                "SalesforceResilienceObservability",
                "SalesforceResiliencePostgres",
                .product(name: "SalesforceResilience", package: "SalesforceResilience"),
                .product(name: "SalesforceResilienceTesting", package: "SalesforceResilience"),
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
        .executableTarget(
            name: "PaymentService",
            dependencies: [
                "PaymentServiceKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "TransportBenchmarks",
            dependencies: [
                "SalesforceResilienceAsyncHTTPClient",
                .product(name: "SalesforceResilience", package: "SalesforceResilience"),
                .product(name: "SalesforceResilienceTesting", package: "SalesforceResilience"),
            ],
            path: "Benchmarks/TransportBenchmarks"
        ),
        .executableTarget(
            name: "FleetBenchmarks",
            dependencies: [
                "SalesforceResilienceAsyncHTTPClient", "SalesforceResiliencePostgres",
                .product(name: "SalesforceResilience", package: "SalesforceResilience"),
                .product(name: "SalesforceResilienceTesting", package: "SalesforceResilience"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Benchmarks/FleetBenchmarks"
        ),
        .testTarget(
            name: "SalesforceResilienceAsyncHTTPClientTests",
            dependencies: [
                "SalesforceResilienceAsyncHTTPClient",
                .product(name: "SalesforceResilienceTesting", package: "SalesforceResilience"),
            ]
        ),
        .testTarget(
            name: "SalesforceResilienceObservabilityTests",
            dependencies: [
                "SalesforceResilienceObservability",
                .product(name: "SalesforceResilienceTesting", package: "SalesforceResilience"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
            ]
        ),
        // The PostgreSQL server the tests share: `PAYMENTSERVICE_POSTGRES_URL`, or a throwaway one.
        .target(
            name: "PostgresTestSupport",
            dependencies: [
                "SalesforceResiliencePostgres",
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Tests/PostgresTestSupport"
        ),
        .testTarget(
            name: "SalesforceResiliencePostgresTests",
            dependencies: [
                "SalesforceResiliencePostgres", "PostgresTestSupport",
                .product(name: "SalesforceResilienceTesting", package: "SalesforceResilience"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        // The server-side ```swift blocks of the documentation, generated by Docs/snippets.py.
        .testTarget(
            name: "DocSnippetTests",
            dependencies: [
                "SalesforceResilienceAsyncHTTPClient",
                "SalesforceResilienceObservability",
                .product(name: "SalesforceResilience", package: "SalesforceResilience"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "PaymentServiceTests",
            // The executable is a dependency so the process-level tests can launch it.
            dependencies: [
                "PaymentService", "PaymentServiceKit", "PostgresTestSupport", "SalesforceResiliencePostgres",
                .product(name: "SalesforceResilienceTesting", package: "SalesforceResilience"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
