// swift-tools-version:6.1
import PackageDescription

// Modules follow the architecture: Workflow (DAG model) and MetadataStore (protocol)
// know nothing of SQLite or processes; implementations and the CLI sit outside them.
let package = Package(
    name: "orchestrator",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "orchestrator", targets: ["orchestrator"]),
        .executable(name: "orchestrator-worker", targets: ["orchestrator-worker"]),
        .executable(name: "orchestrator-worker-postgres", targets: ["orchestrator-worker-postgres"]),
        // For the fuzz package in Fuzz/ (scripts/fuzz), which depends on this one by path.
        .library(name: "Workflow", targets: ["Workflow"]),
        .library(name: "Transforms", targets: ["Transforms"]),
        .library(name: "OrchestratorCLI", targets: ["OrchestratorCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    ],
    targets: [
        // Budgets for every YAML file read (size, alias expansion, depth), shared by the DAG parser, the configuration
        // and the transforms' rule files.
        .target(name: "YAMLLimits", dependencies: [.product(name: "Yams", package: "Yams")]),
        .target(name: "Workflow", dependencies: ["YAMLLimits", .product(name: "Yams", package: "Yams")]),
        // Store URLs (sqlite:///…, postgres://…) parsed without Foundation, for the CLI and the worker alike.
        .target(name: "StoreAddress"),
        .target(name: "MetadataStore"),
        .target(name: "SQLiteStore", dependencies: ["MetadataStore", .product(name: "GRDB", package: "GRDB.swift")]),
        .target(name: "Executor", dependencies: ["CSystemCalls"]),
        // The worker side links no Foundation: WorkerCore (the attempt, and its channel to the daemon), and the SQLite C API directly.
        .target(name: "WorkerCore", dependencies: ["Executor"]),
        // GRDBSQLite is only GRDB's module map for the system libsqlite3: no GRDB code is linked.
        .target(name: "SQLiteDirect", dependencies: [.product(name: "GRDBSQLite", package: "GRDB.swift")]),
        .target(name: "SQLiteAttemptStore", dependencies: ["WorkerCore", "SQLiteDirect"]),
        .target(name: "CSystemCalls"),
        // The one password masker, shared by the pages, the served logs, the transforms' logs and the CLI.
        .target(name: "SecretMasking"),
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        // The PostgreSQL client over libpq (bound parameters, prepared statements, typed errors with SQLSTATE), shared by
        // the transforms and the PostgreSQL store so that neither depends on the other.
        .target(name: "PostgresClient", dependencies: ["CLibPQ", "SecretMasking"]),
        // The shared store on PostgreSQL (one connection per process, versioned migrations). The scheduler lease's local
        // pid file is SQLiteStore's FileSchedulerLease.
        // The worker's attempt writes on PostgreSQL, over libpq directly and without Foundation (docs/decisions/0007-postgres-store.md).
        .target(name: "PostgresAttemptStore", dependencies: ["WorkerCore", "CLibPQ", "StoreAddress"]),
        .target(name: "PostgresStore", dependencies: ["MetadataStore", "PostgresClient", "SQLiteStore"]),
        // libcurl's curl_easy_setopt is variadic: a few C lines wrap one GET for Swift.
        .target(name: "CCurlShim",
                linkerSettings: [.linkedLibrary("curl")]),
        .target(name: "Notifications", dependencies: ["MetadataStore", "CCurlShim"]),
        // The status pages, JSON API and metrics, served by the daemon; reads the store, never writes runs itself.
        .target(name: "WebStatus", dependencies: ["MetadataStore", "Workflow", "SecretMasking", "CCurlShim", .product(name: "Hummingbird", package: "hummingbird"),
                                                  .product(name: "Logging", package: "swift-log"),
                                                  .product(name: "HTTPTypes", package: "swift-http-types")]),
        // Deterministic, deliberately dirty sample data for the example pipelines, their tests and benchmarks.
        .target(name: "SampleData"),
        .target(name: "Transforms", dependencies: ["CSystemCalls", "Executor", "SecretMasking", "SQLiteDirect", "PostgresClient", "CCurlShim", "YAMLLimits", "S3Client",
                                                   .product(name: "Yams", package: "Yams")],
                // Per-byte loops over class-held buffers pay a dynamic exclusivity check on every access.
                swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"])]),
        .target(name: "Scheduler", dependencies: ["Workflow", "MetadataStore", "Executor", "WorkerCore", "SecretMasking"]),
        .target(
            name: "OrchestratorCLI",
            dependencies: [
                "Workflow", "MetadataStore", "SQLiteStore", "PostgresStore", "PostgresClient", "PostgresAttemptStore", "StoreAddress", "Executor", "Scheduler", "WorkerCore", "Transforms", "SampleData",
                "Notifications", "WebStatus", "SecretMasking", "YAMLLimits", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .executableTarget(name: "orchestrator", dependencies: ["OrchestratorCLI"]),
        // The worker is spawned once per task attempt, so it links only what an attempt needs.
        .executableTarget(name: "orchestrator-worker", dependencies: ["WorkerCore", "SQLiteAttemptStore", "StoreAddress"],
                          linkerSettings: [.unsafeFlags(["-static-executable"])]),
        // The worker for PostgreSQL stores that opens the store itself, and the fallback helper of a static worker whose
        // daemon is gone (docs/decisions/0016): libpq has no complete static build here, so this one links it dynamically
        // (the release build links the Swift runtime statically, and it uses no Foundation either).
        .executableTarget(name: "orchestrator-worker-postgres", dependencies: ["WorkerCore", "SQLiteAttemptStore", "PostgresAttemptStore"]),
        .testTarget(name: "WorkflowTests", dependencies: ["Workflow", "YAMLLimits"]),
        .testTarget(name: "WorkerCoreTests", dependencies: ["WorkerCore", "Executor"]),
        .testTarget(name: "SchedulerTests", dependencies: ["Scheduler", "Workflow", "MetadataStore", "SQLiteStore", "PostgresStore", "PostgresClient", "Notifications"]),
        // The store conformance suite (StoreConformanceTests) and its SQLite subclass; other backends add theirs here.
        .testTarget(name: "SQLiteStoreTests", dependencies: ["SQLiteStore", "MetadataStore", "WorkerCore", "SQLiteAttemptStore",
                                                             "PostgresStore", "PostgresClient", "PostgresAttemptStore", "StoreAddress",
                                                             .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "EndToEndTests", dependencies: ["S3Client", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "TransformsTests", dependencies: ["Transforms", "S3Client"]),
        .testTarget(name: "PostgresClientTests", dependencies: ["PostgresClient"]),
        .testTarget(name: "PostgresStoreTests", dependencies: ["PostgresStore", "PostgresClient", "MetadataStore"]),
        .testTarget(name: "StoreAddressTests", dependencies: ["StoreAddress"]),
        .testTarget(name: "SecretMaskingTests", dependencies: ["SecretMasking"]),
        .testTarget(name: "WebStatusTests", dependencies: ["WebStatus", "MetadataStore"]),
        .testTarget(name: "SampleDataTests", dependencies: ["SampleData"]),
        // S3-compatible object storage (MinIO, AWS; moto in the tests) over libcurl: SigV4, streaming, multipart.
        .target(name: "CS3Curl", linkerSettings: [.linkedLibrary("curl")]),
        .target(name: "S3Client", dependencies: ["CS3Curl"]),
        .testTarget(name: "S3ClientTests", dependencies: ["S3Client"]),
    ],
    swiftLanguageModes: [.v6]
)
