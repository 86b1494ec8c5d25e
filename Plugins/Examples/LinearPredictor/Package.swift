// swift-tools-version:6.0
import PackageDescription

// An example smartserve plugin: a dynamic library built against the checkout's ServeAPI.
// Build: swift build -c release --package-path Plugins/Examples/LinearPredictor (or `make plugins`).
let package = Package(
    name: "LinearPredictor",
    products: [.library(name: "LinearPredictor", type: .dynamic, targets: ["LinearPredictor"])],
    dependencies: [.package(path: "../../ServeAPI")],
    targets: [.target(name: "LinearPredictor", dependencies: [.product(name: "ServeAPI", package: "ServeAPI")])]
)
