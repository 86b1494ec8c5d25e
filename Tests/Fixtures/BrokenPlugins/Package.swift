// swift-tools-version:6.0
import PackageDescription

// Deliberately broken plugins for the tests: invalid plans, a stuck scheduler, a router out of
// range, a plugin built for another ABI, one that takes a built-in's name, one with no entry point,
// and one whose scheduler traps.
let package = Package(
    name: "BrokenPlugins",
    products: ["BrokenPlan", "WrongABI", "Clash", "NotAPlugin", "Trapper"].map { .library(name: $0, type: .dynamic, targets: [$0]) },
    dependencies: [.package(path: "../../../Plugins/ServeAPI")],
    targets: ["BrokenPlan", "WrongABI", "Clash", "NotAPlugin", "Trapper"].map {
        .target(name: $0, dependencies: [.product(name: "ServeAPI", package: "ServeAPI")])
    }
)
