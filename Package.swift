// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "dlcm-server",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Tokenization", targets: ["Tokenization"]),
    ],
    targets: [
        // Hugging Face tokenizer.json (byte-level BPE) loader, encoder and decoder.
        .target(name: "Tokenization"),
        // Encoding throughput: `swift run -c release tokenizer-bench <tokenizer.json> <text file>`.
        .executableTarget(name: "tokenizer-bench", dependencies: ["Tokenization"]),
        .testTarget(
            name: "TokenizationTests",
            dependencies: ["Tokenization"],
            exclude: ["Scripts"],
            resources: [.copy("Resources")]
        ),
    ]
)
