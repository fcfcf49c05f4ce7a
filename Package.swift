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
            // Fixtures are read from the source tree (see Fixtures.swift), so none are bundled.
            exclude: ["Scripts", "Resources", "make_cases.py", "README.md"]
        ),
    ]
)
