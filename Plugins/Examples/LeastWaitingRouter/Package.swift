// swift-tools-version:6.0
import PackageDescription

// An example smartserve plugin: a dynamic library built against the checkout's ServeAPI.
// Build: swift build -c release --package-path Plugins/Examples/LeastWaitingRouter (or `make plugins`).
let package = Package(
    name: "LeastWaitingRouter",
    products: [.library(name: "LeastWaitingRouter", type: .dynamic, targets: ["LeastWaitingRouter"])],
    dependencies: [.package(path: "../../ServeAPI")],
    targets: [.target(name: "LeastWaitingRouter", dependencies: [.product(name: "ServeAPI", package: "ServeAPI")])]
)
