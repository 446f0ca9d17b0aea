// swift-tools-version:6.0
import PackageDescription

// Linux only: the server runs on epoll, eventfd and accept4 (through the CLinux shim), and reads /proc and cgroups.
let package = Package(
    name: "mesh-samples",
    products: [
        .library(name: "SystemKit", targets: ["SystemKit"]),
        .library(name: "HTTPKit", targets: ["HTTPKit"]),
        .library(name: "ServiceKit", targets: ["ServiceKit"]),
        .library(name: "MySQLKit", targets: ["MySQLKit"]),
        .executable(name: "productpage", targets: ["ProductPage"]),
        .executable(name: "details", targets: ["Details"]),
        .executable(name: "reviews", targets: ["Reviews"]),
        .executable(name: "ratings", targets: ["Ratings"]),
        .executable(name: "storage-app", targets: ["StorageApp"]),
        .executable(name: "loadgen", targets: ["LoadGen"]),
    ],
    dependencies: [],
    // The layers, lowest first; a target imports only those below it (test.sh builds with the import check on).
    targets: [
        .target(name: "CLinux"),
        // Sockets, epoll, deadlines, threads and locks, hashes.
        .target(name: "SystemKit", dependencies: ["CLinux"]),
        // HTTP/1.1: model, codec, server, client, routing.
        .target(name: "HTTPKit", dependencies: ["SystemKit"]),
        // The service runtime: settings, the runner, logs and metrics.
        .target(name: "ServiceKit", dependencies: ["HTTPKit", "SystemKit"]),
        // The MySQL client protocol, on the system layer alone.
        .target(name: "MySQLKit", dependencies: ["SystemKit"]),
        .target(name: "Bookinfo", dependencies: ["ServiceKit", "HTTPKit"]),
        .executableTarget(name: "ProductPage", dependencies: ["ServiceKit", "HTTPKit", "SystemKit", "Bookinfo"]),
        .executableTarget(name: "Details", dependencies: ["ServiceKit", "HTTPKit", "Bookinfo"]),
        .executableTarget(name: "Reviews", dependencies: ["ServiceKit", "HTTPKit", "Bookinfo"]),
        .executableTarget(name: "Ratings", dependencies: ["ServiceKit", "HTTPKit", "SystemKit", "MySQLKit"]),
        .executableTarget(name: "StorageApp", dependencies: ["ServiceKit", "HTTPKit", "SystemKit"]),
        .executableTarget(name: "LoadGen", dependencies: ["ServiceKit", "HTTPKit", "SystemKit"]),
        .target(
            name: "TestSupport", dependencies: ["ServiceKit", "HTTPKit", "SystemKit"], path: "Tests/TestSupport"),
        .testTarget(name: "HTTPKitTests", dependencies: ["ServiceKit", "HTTPKit", "SystemKit", "TestSupport"]),
        .testTarget(name: "MySQLKitTests", dependencies: ["MySQLKit", "SystemKit", "TestSupport"]),
        .testTarget(
            name: "ServiceTests",
            dependencies: [
                "ServiceKit", "HTTPKit", "SystemKit", "Bookinfo", "TestSupport", "ProductPage", "Details", "Reviews",
                "Ratings", "StorageApp",
                "LoadGen",
            ]
        ),
        .testTarget(
            name: "IntegrationTests", dependencies: ["ServiceKit", "HTTPKit", "SystemKit", "MySQLKit", "TestSupport"]),
    ]
)
