// swift-tools-version:6.1
import Foundation
import PackageDescription

let package = Package(
    name: "SmartLLMServe",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "smartserve", targets: ["smartserve"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // YAML for LLMServingSim 2.0 profile bundles (meta.yaml).
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        // SHA-256 of recorded inputs (about two minutes of a clean build on two cores).
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        // Property-based tests of the engine's invariants (Swift Testing; no dependencies).
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        // The contracts live in their own package so that run-time plugins and the host
        // share one copy of the protocols (see docs/ARCHITECTURE.md).
        .package(path: "Plugins/ServeAPI"),
    ],
    targets: [
        .target(name: "Workload", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        // Charts as values, drawn as SVG (reports, `plot --out`) or with characters (the shell).
        .target(name: "Charts"),
        .systemLibrary(name: "CLibEdit", pkgConfig: "libedit", providers: [.apt(["libedit-dev"])]),
        .target(name: "LineEdit", dependencies: ["CLibEdit"]),
        .target(name: "ServeSim", dependencies: [
            "Workload", "Yams",
            .product(name: "ServeAPI", package: "ServeAPI"),
        ]),
        .target(name: "Schedulers", dependencies: [
            "Workload", "Learning",
            .product(name: "ServeAPI", package: "ServeAPI"),
        ]),
        // Reverse-mode autodiff, batched networks and optimisers, shared by forecasters and RL.
        .target(name: "Learning", dependencies: ["Workload"]),
        .target(name: "Forecasting", dependencies: [
            "Workload", "Learning",
            .product(name: "ServeAPI", package: "ServeAPI"),
        ]),
        // The environment over the engine, the agents, policy files and the `rl` scheduler.
        .target(name: "RL", dependencies: [
            "Workload", "ServeSim", "Learning",
            .product(name: "ServeAPI", package: "ServeAPI"),
        ]),
        .target(name: "PluginHost", dependencies: [
            "Workload",
            .product(name: "ServeAPI", package: "ServeAPI"),
        ]),
        .target(name: "Workbench", dependencies: [
            "Workload", "ServeSim", "Schedulers", "Forecasting", "PluginHost", "RL", "Charts",
            .product(name: "ServeAPI", package: "ServeAPI"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // $ORIGIN/../lib: an installed smartserve (PREFIX/bin) finds libServeAPI.so in PREFIX/lib;
        // SwiftPM's own $ORIGIN covers a copy with the library beside it.
        .executableTarget(name: "smartserve", dependencies: ["Workbench", "LineEdit"],
                          linkerSettings: [.unsafeFlags(["-Xlinker", "-rpath", "-Xlinker", "$ORIGIN/../lib"])]),
        // `make fuzz` builds it with -sanitize=fuzzer; a plain build gives a stub that says so.
        .executableTarget(name: "smartserve-fuzz", dependencies: ["Workbench"],
                          swiftSettings: [.unsafeFlags(["-parse-as-library"])]),
        .executableTarget(name: "smartserve-bench", dependencies: ["Workload", "ServeSim", "Schedulers", "Workbench", "Forecasting", "RL"]),
        .testTarget(name: "WorkloadTests", dependencies: ["Workload"]),
        .testTarget(name: "ServeSimTests", dependencies: ["ServeSim", "Schedulers", "Workload"]),
        // zlib, for the tests that decode the PNGs rsvg-convert renders from our SVG charts.
        .systemLibrary(name: "CZlib", path: "Tests/CZlib", providers: [.apt(["zlib1g-dev"])]),
        .testTarget(name: "WorkbenchTests", dependencies: ["Workbench", "Workload", "ServeSim", "Charts", "Forecasting", "CZlib", "Yams"]),
        .testTarget(name: "ForecastingTests", dependencies: ["Forecasting", "Workload", "Learning"]),
        .testTarget(name: "LearningTests", dependencies: ["Learning", "Workload"]),
        .testTarget(name: "PropertyTests", dependencies: ["ServeSim", "Schedulers", "Workload",
                                                       .product(name: "ServeAPI", package: "ServeAPI"),
                                                       .product(name: "PropertyBased", package: "swift-property-based")]),
        .testTarget(name: "RLTests", dependencies: ["RL", "Learning", "ServeSim", "Schedulers", "Workload", "Workbench"]),
    ]
)

// `make bench` sets SMARTSERVE_BENCHMARKS=1: the standard harness (ordo-one's package-benchmark:
// wall time, instructions where the CPU counts them, mallocs, peak memory; baselines to compare)
// and the suite in Benchmarks/ join the package only then, so everyday builds and CI never
// compile the harness (about two minutes on two cores).
if ProcessInfo.processInfo.environment["SMARTSERVE_BENCHMARKS"] != nil {
    package.dependencies.append(.package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]))
    package.targets.append(.executableTarget(
        name: "EngineBenchmarks",
        dependencies: ["Workload", "ServeSim", "Schedulers", "Workbench", .product(name: "Benchmark", package: "benchmark")],
        path: "Benchmarks/EngineBenchmarks",
        plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]))
}
