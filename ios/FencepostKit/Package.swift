// swift-tools-version:5.9
// The Swift face of the Fencepost core: the generated UniFFI bindings (FencepostFFI) and an idiomatic
// wrapper (FencepostKit: async/await, AsyncStream). On Linux the Rust library comes from cargo and the
// tests run with `swift test` (scripts/ci/31-swift.sh); in Xcode, ios/build-xcframework.sh builds the
// XCFramework that replaces the system library target below.
import PackageDescription

let package = Package(
    name: "FencepostKit",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "FencepostKit", targets: ["FencepostKit"]),
    ],
    targets: [
        .systemLibrary(name: "fencepost_ffiFFI", path: "Sources/fencepost_ffiFFI"),
        .target(name: "FencepostFFI", dependencies: ["fencepost_ffiFFI"], path: "Sources/FencepostFFI",
                exclude: ["README.md"]),
        .target(name: "FencepostKit", dependencies: ["FencepostFFI"]),
        .testTarget(name: "FencepostKitTests", dependencies: ["FencepostKit"]),
    ]
)
