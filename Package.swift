// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "dlcm-server",
    products: [
        .library(name: "HTTPServer", targets: ["HTTPServer"]),
    ],
    targets: [
        // Glibc's module map has no <sys/epoll.h>/<sys/eventfd.h>, and accept4 needs _GNU_SOURCE.
        .systemLibrary(name: "CEpoll", path: "Sources/CEpoll"),
        .target(name: "HTTPServer", dependencies: ["CEpoll"]),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer"]),
    ]
)
