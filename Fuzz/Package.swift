// swift-tools-version: 6.0
// libFuzzer targets for every parser of untrusted bytes in SalesforceResilience. Built only by
// Fuzz/run.sh, with `-sanitize=fuzzer,address`: a normal `swift build` of the root never sees it.
import PackageDescription

let package = Package(
    name: "ResilienceFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "SalesforceResilience", path: "..")],
    targets: [
        .executableTarget(
            name: "ResilienceFuzz",
            dependencies: [
                .product(name: "SalesforceResilience", package: "SalesforceResilience"),
                .product(name: "SalesforceResilienceTesting", package: "SalesforceResilience"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
