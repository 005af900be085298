// swift-tools-version: 6.0
// SalesforceResilience: resilient Salesforce calls with zero package dependencies.
import PackageDescription

let package = Package(
    name: "SalesforceResilience",
    platforms: [.macOS(.v15), .iOS(.v18)],
    products: [
        .library(name: "SalesforceResilience", targets: ["SalesforceResilience"]),
        .library(name: "SalesforceResilienceTesting", targets: ["SalesforceResilienceTesting"]),
    ],
    targets: [
        .target(name: "SalesforceResilience"),
        .target(
            name: "SalesforceResilienceTesting",
            dependencies: ["SalesforceResilience"]
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
            dependencies: ["SalesforceResilience", "SalesforceResilienceTesting", "PaymentPosterKit"],
            path: "Benchmarks/ResilienceBenchmarks"
        ),
        .testTarget(
            name: "PaymentPosterTests",
            // The executable is a dependency so the process-level tests can launch it.
            dependencies: ["PaymentPoster", "PaymentPosterKit", "SalesforceResilience", "SalesforceResilienceTesting"]
        ),
        .testTarget(
            name: "SalesforceResilienceTests",
            dependencies: ["SalesforceResilience", "SalesforceResilienceTesting"]
        ),
        .testTarget(
            name: "SalesforceResilienceTestingTests",
            dependencies: ["SalesforceResilience", "SalesforceResilienceTesting"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
