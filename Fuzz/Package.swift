// swift-tools-version: 6.1
// libFuzzer targets for every parser of untrusted bytes in SalesforceResilience. Built only by
// Fuzz/run.sh, with `-sanitize=fuzzer,address`: a normal `swift build` of the root never sees it.
import PackageDescription

let package = Package(
    name: "ResilienceFuzz",
    platforms: [.macOS(.v15)],
    // PubSub: its Avro decoder and replay store are parsers of untrusted bytes too.
    dependencies: [.package(name: "SalesforceResilience", path: "..", traits: ["PubSub"])],
    targets: [
        .executableTarget(
            name: "ResilienceFuzz",
            dependencies: [
                .product(name: "SalesforceResilience", package: "SalesforceResilience"),
                .product(name: "SalesforceResilienceTesting", package: "SalesforceResilience"),
                .product(name: "SalesforceResiliencePubSub", package: "SalesforceResilience"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
