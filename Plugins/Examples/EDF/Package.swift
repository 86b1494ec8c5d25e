// swift-tools-version:6.0
import PackageDescription

// An example smartserve plugin: a dynamic library built against the checkout's ServeAPI.
// Build: swift build -c release --package-path Plugins/Examples/EDF (or `make plugins`).
let package = Package(
    name: "EDF",
    products: [.library(name: "EDF", type: .dynamic, targets: ["EDF"])],
    dependencies: [.package(path: "../../ServeAPI")],
    targets: [.target(name: "EDF", dependencies: [.product(name: "ServeAPI", package: "ServeAPI")])]
)
