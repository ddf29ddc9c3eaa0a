// swift-tools-version:6.1
import PackageDescription

// Coverage-guided fuzz targets (libFuzzer) for the parsers that read files: run them with scripts/fuzz, which builds
// this package with -sanitize=fuzzer,address. Each target's main hands its one-input function to libFuzzer's driver.
let package = Package(
    name: "orchestrator-fuzz",
    dependencies: [.package(name: "orchestrator", path: "..")],
    targets: [
        .target(name: "CFuzzerDriver"),
        .executableTarget(name: "FuzzDagParser", dependencies: ["CFuzzerDriver", .product(name: "Workflow", package: "orchestrator")]),
        .executableTarget(name: "FuzzCSV", dependencies: ["CFuzzerDriver", .product(name: "Transforms", package: "orchestrator")]),
        .executableTarget(name: "FuzzConfiguration", dependencies: ["CFuzzerDriver", .product(name: "OrchestratorCLI", package: "orchestrator")]),
    ],
    swiftLanguageModes: [.v6]
)
