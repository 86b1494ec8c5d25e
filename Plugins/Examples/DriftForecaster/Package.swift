// swift-tools-version:6.0
import PackageDescription

// An example smartserve plugin: a dynamic library built against the checkout's ServeAPI.
// Build: swift build -c release --package-path Plugins/Examples/DriftForecaster (or `make plugins`).
let package = Package(
    name: "DriftForecaster",
    products: [.library(name: "DriftForecaster", type: .dynamic, targets: ["DriftForecaster"])],
    dependencies: [.package(path: "../../ServeAPI")],
    targets: [.target(name: "DriftForecaster", dependencies: [.product(name: "ServeAPI", package: "ServeAPI")])]
)
