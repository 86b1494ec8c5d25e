// swift-tools-version:6.0
import PackageDescription

// The contracts package: protocols and the value types they exchange.
// A dynamic library so that the host and every dlopen'ed plugin see one copy
// of the protocol metadata (casts and registries only work across the boundary then).
let package = Package(
    name: "ServeAPI",
    products: [
        .library(name: "ServeAPI", type: .dynamic, targets: ["ServeAPI"]),
    ],
    targets: [
        .target(name: "ServeAPI"),
    ]
)
