// swift-tools-version:6.0
import PackageDescription
import Foundation

// Compiler targeting for the hot (compute) targets.
// DLCM_TARGET_CPU picks the CPU the kernels are compiled for (passed as `-target-cpu`).
// The default `native` uses everything the build machine has (AVX-512, FMA, F16C, ...);
// without it swiftc targets baseline x86-64: no FMA, so `addingProduct` becomes a library call.
// Set it (e.g. `znver4`, `haswell`) when the build machine differs from the one that serves.
let targetCPU = ProcessInfo.processInfo.environment["DLCM_TARGET_CPU"] ?? "native"

let hotCodeSettings: [SwiftSetting] = [
    .unsafeFlags(["-target-cpu", targetCPU]),
    .unsafeFlags(["-Ounchecked"], .when(configuration: .release)),
    // Optimise kernels in debug builds too, so `swift test` is not slowed ~50x by -Onone.
    // Bounds and overflow checks stay on (this is -O, not -Ounchecked).
    .unsafeFlags(["-O"], .when(configuration: .debug)),
]

/// Code that reads files from outside (checkpoint headers): optimised, but never -Ounchecked, so a
/// malformed file meets a bounds or overflow check rather than undefined behaviour.
let checkedCodeSettings: [SwiftSetting] = [
    .unsafeFlags(["-target-cpu", targetCPU]),
    .unsafeFlags(["-O"], .when(configuration: .debug)),
]

let package = Package(
    name: "dlcm-server",
    products: [
        .library(name: "Kernels", targets: ["Kernels"]),
        .library(name: "SafeTensors", targets: ["SafeTensors"]),
        .library(name: "DLCMRuntime", targets: ["DLCMRuntime"]),
        .library(name: "Tokenization", targets: ["Tokenization"]),
        .library(name: "HTTPServer", targets: ["HTTPServer"]),
        .library(name: "DLCMEngine", targets: ["DLCMEngine"]),
        .library(name: "DLCMServer", targets: ["DLCMServer"]),
        .executable(name: "kernel-bench", targets: ["kernel-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // `pause` for spin loops (no Swift spelling for it), thread affinity, and the int8 (AVX512-VNNI) quantized dot products, which need intrinsics: compiled for
        // the same CPU as the Swift kernels, and optimised in debug builds too.
        .target(name: "CKernelSupport", cSettings: [.unsafeFlags(["-march=\(targetCPU)", "-O2"])]),
        // The package's one clock (CLOCK_MONOTONIC): deadlines, latencies and benchmarks read it.
        .target(name: "MonotonicTime"),
        // The package's one way to start a dedicated thread (event loop, engine, compute workers).
        .target(name: "SystemThread"),
        .target(
            name: "Kernels",
            dependencies: ["CKernelSupport", "MonotonicTime", "SystemThread"],
            swiftSettings: hotCodeSettings
        ),
        // The package's one JSON value type, strict parser and string writer: request and
        // response bodies, checkpoint headers, the HTTP layer's error bodies.
        .target(name: "StrictJSON", swiftSettings: checkedCodeSettings),
        .target(
            name: "SafeTensors",
            dependencies: ["StrictJSON"],
            swiftSettings: checkedCodeSettings
        ),
        .executableTarget(
            name: "kernel-bench",
            dependencies: ["Kernels", "MonotonicTime"],
            swiftSettings: hotCodeSettings
        ),
        // The model: config, weights, caches, batched forward. Knows nothing of text or HTTP.
        .target(
            name: "DLCMRuntime",
            dependencies: ["Kernels", "MonotonicTime", "SafeTensors"],
            swiftSettings: hotCodeSettings
        ),

        // Hugging Face chat templates: the Jinja2 subset they use, rendered as transformers renders them.
        // Renders API users' messages: optimised, never -Ounchecked.
        .target(name: "ChatTemplate", dependencies: ["StrictJSON"], swiftSettings: checkedCodeSettings),
        // Constrained decoding: JSON Schema and tool-call grammars matched against a vocabulary as token masks.
        // Compiles API users' schemas: optimised, never -Ounchecked.
        .target(name: "StructuredOutput", dependencies: ["StrictJSON"], swiftSettings: checkedCodeSettings),
        // Token-mask cost per generated token: `swift run -c release constraint-bench <tokenizer.json>...`.
        .executableTarget(name: "constraint-bench", dependencies: ["MonotonicTime", "StrictJSON", "StructuredOutput", "Tokenization"]),
        // Hugging Face tokenizer.json (byte-level BPE) loader, encoder and decoder.
        .target(name: "Tokenization"),
        // Encoding throughput: `swift run -c release tokenizer-bench <tokenizer.json> <text file>`.
        .executableTarget(name: "tokenizer-bench", dependencies: ["MonotonicTime", "Tokenization"]),
        // Glibc's module map has no <sys/epoll.h>/<sys/eventfd.h>, and accept4 needs _GNU_SOURCE.
        .systemLibrary(name: "CEpoll", path: "Sources/CEpoll"),
        // TLS for HTTPServer (libssl-dev); the context settings OpenSSL spells as macros are set in shim.h.
        .systemLibrary(
            name: "COpenSSL", path: "Sources/COpenSSL", pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]),
        // gzip response bodies (zlib1g-dev); deflateInit2 is a macro, so one-shot gzip is in shim.h.
        .systemLibrary(
            name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]),
        // HTTP/1.1 over non-blocking sockets and epoll, optionally TLS and gzip. Knows nothing of models.
        .target(name: "HTTPServer", dependencies: ["CEpoll", "COpenSSL", "CZlib", "Locking", "MonotonicTime", "StrictJSON", "SystemThread"]),
        // A pthread-mutex-guarded value (TSan sees through pthread mutexes; see Locked.swift).
        .target(name: "Locking"),
        // Joins text and model: per-request generation (sampling, streaming text, stop strings).
        .target(name: "DLCMEngine", dependencies: ["ChatTemplate", "DLCMRuntime", "Kernels", "Tokenization", "Locking", "MonotonicTime", "StrictJSON", "StructuredOutput", "SystemThread"]),
        // The OpenAI-compatible JSON API: routes, request parsing, SSE, metrics. Only the JSON/route
        // layer: HTTP transport in HTTPServer, scheduling in DLCMEngine.
        .target(name: "DLCMServer", dependencies: [
            "HTTPServer", "DLCMEngine", "DLCMRuntime", "Tokenization", "Locking", "MonotonicTime", "StrictJSON", "StructuredOutput", "SystemThread", .product(name: "Logging", package: "swift-log"),
        ]),
        // The command-line tool: generate, segment, bench, serve.
        .executableTarget(
            name: "dlcm",
            dependencies: [
                "DLCMEngine", "DLCMRuntime", "DLCMServer", "HTTPServer", "Kernels", "Locking", "MonotonicTime", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "DLCMRuntimeTests",
            dependencies: ["DLCMRuntime", "Kernels", "SafeTensors", "Tokenization"],
            exclude: ["Resources"]
        ),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels"]),
        // The engine without a model: its scheduling rules as data (StepPlan), and the engine
        // driven by a scripted fake model (FakeModel).
        .testTarget(name: "DLCMEngineTests", dependencies: ["DLCMEngine", "DLCMRuntime", "Kernels", "Locking"]),
        .testTarget(name: "SafeTensorsTests", dependencies: ["SafeTensors"]),
        // The raw-socket HTTP client and polling helper of the server test suites, and their seeded generator.
        .target(name: "TestSupport", dependencies: ["HTTPServer", "MonotonicTime"], path: "Tests/TestSupport"),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer", "MonotonicTime", "TestSupport"]),
        // End to end over real sockets, on the tiny-served fixture (Scripts/make_fixture.py).
        .testTarget(
            name: "DLCMServerTests",
            dependencies: ["DLCMServer", "DLCMEngine", "DLCMRuntime", "HTTPServer", "Locking", "StrictJSON", "TestSupport", .product(name: "Logging", package: "swift-log")],
            exclude: ["Resources", "Scripts"]
        ),
        // Grammars against jsonschema's verdicts (Resources/make_corpus.py), schema errors, token masks on
        // the GPT-2 and project vocabularies, tool-call grammars.
        .testTarget(name: "StructuredOutputTests", dependencies: ["StructuredOutput", "StrictJSON", "TestSupport", "Tokenization"], exclude: ["Resources"]),
        // Every fixture rendered by jinja2 itself (Resources/make_fixtures.py), byte for byte; limits; errors.
        .testTarget(name: "ChatTemplateTests", dependencies: ["ChatTemplate", "StrictJSON"], exclude: ["Resources"]),
        .testTarget(
            name: "TokenizationTests",
            dependencies: ["Tokenization"],
            // Fixtures are read from the source tree (see Fixtures.swift), so none are bundled.
            exclude: ["Scripts", "Resources", "make_cases.py", "README.md"]
        ),
    ]
)

// libFuzzer targets (fuzz/README.md), only when DLCM_FUZZ is set: they have no main (libFuzzer
// supplies it), so they link only with `--sanitize=fuzzer` and must stay out of normal builds.
// `fuzz/build.sh` builds them into .build-fuzz.
if ProcessInfo.processInfo.environment["DLCM_FUZZ"] != nil {
    package.targets += [
        .executableTarget(name: "fuzz-http", dependencies: ["HTTPServer"], path: "fuzz/http",
                          swiftSettings: [.unsafeFlags(["-parse-as-library"])]),
        .executableTarget(name: "fuzz-json", dependencies: ["DLCMServer", "DLCMEngine", "DLCMRuntime", "StrictJSON"], path: "fuzz/json",
                          swiftSettings: [.unsafeFlags(["-parse-as-library"])]),
    ]
}
