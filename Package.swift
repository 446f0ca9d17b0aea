// swift-tools-version:6.0
import PackageDescription

// Linux only: the server runs on epoll, eventfd and accept4 (through the CLinux shim), and reads /proc and cgroups.
let package = Package(
    name: "mesh-samples",
    products: [
        .library(name: "HTTPKit", targets: ["HTTPKit"]),
        .library(name: "MySQLKit", targets: ["MySQLKit"]),
        .executable(name: "productpage", targets: ["ProductPage"]),
        .executable(name: "details", targets: ["Details"]),
        .executable(name: "reviews", targets: ["Reviews"]),
        .executable(name: "ratings", targets: ["Ratings"]),
        .executable(name: "storage-app", targets: ["StorageApp"]),
        .executable(name: "loadgen", targets: ["LoadGen"]),
    ],
    dependencies: [],
    targets: [
        // DWARF 4: the debug information valgrind 3.19 (Debian 12) reads, for bench/instructions.sh.
        .target(name: "CLinux", cSettings: [.unsafeFlags(["-gdwarf-4"])]),
        .target(name: "HTTPKit", dependencies: ["CLinux"]),
        .target(name: "MySQLKit", dependencies: ["HTTPKit"]),
        .target(name: "Bookinfo", dependencies: ["HTTPKit"]),
        .executableTarget(name: "ProductPage", dependencies: ["HTTPKit", "Bookinfo"]),
        .executableTarget(name: "Details", dependencies: ["HTTPKit", "Bookinfo"]),
        .executableTarget(name: "Reviews", dependencies: ["HTTPKit", "Bookinfo"]),
        .executableTarget(name: "Ratings", dependencies: ["HTTPKit", "MySQLKit"]),
        .executableTarget(name: "StorageApp", dependencies: ["HTTPKit"]),
        .executableTarget(name: "LoadGen", dependencies: ["HTTPKit"]),
        .target(name: "TestSupport", dependencies: ["HTTPKit"], path: "Tests/TestSupport"),
        .testTarget(name: "HTTPKitTests", dependencies: ["HTTPKit", "TestSupport"]),
        .testTarget(name: "MySQLKitTests", dependencies: ["MySQLKit", "HTTPKit", "TestSupport"]),
        .testTarget(
            name: "ServiceTests",
            dependencies: [
                "HTTPKit", "Bookinfo", "TestSupport", "ProductPage", "Details", "Reviews", "Ratings", "StorageApp",
                "LoadGen",
            ]
        ),
        .testTarget(name: "IntegrationTests", dependencies: ["HTTPKit", "MySQLKit", "TestSupport"]),
    ]
)
