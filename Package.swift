// swift-tools-version:6.1
import PackageDescription

// One settings list for every target. Swift 6 language mode already turns on strict
// concurrency checking; the upcoming features below tighten what Swift 6 leaves loose.
let swiftSettings: [SwiftSetting] = [
    // Imports used in a public signature must be public: keeps module boundaries honest.
    .enableUpcomingFeature("InternalImportsByDefault"),
    // `any` spelled out for existentials, so their cost is visible.
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "signbert-server",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "signbert", targets: ["SignBERTCommand"]),
        .library(name: "SignBERTRuntime", targets: ["SignBERTRuntime"]),
        .library(name: "JSONText", targets: ["JSONText"]),
        .library(name: "WireFormats", targets: ["WireFormats"]),
        .library(name: "HTTPServer", targets: ["HTTPServer"]),
        .library(name: "InferenceService", targets: ["InferenceService"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
        // The gRPC API's messages (code generated from Protos/ by tools/generate_protos.sh, committed).
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // OpenBLAS from the system (Debian: libopenblas-dev), found through pkg-config.
        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        // libnghttp2 from the system (Debian: libnghttp2-dev): HTTP/2 framing for h2c connections.
        .systemLibrary(
            name: "CNGHTTP2",
            pkgConfig: "libnghttp2",
            providers: [.apt(["libnghttp2-dev"])]
        ),
        // zlib from the system (Debian: zlib1g-dev): gzip and deflate request bodies (Content-Encoding).
        .systemLibrary(
            name: "CSystemZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // The element-wise kernels (GELU, LayerNorm, softmax, bias) compiled for baseline x86-64, AVX2+FMA
        // and AVX-512 and chosen at start-up by CPU features, and the thread team of the forward pass.
        // Always optimised: debug-build tests must run the same vectorised code as a release build.
        .target(
            name: "CKernels",
            cSettings: [.unsafeFlags(["-O2"])]
        ),
        // JSON text: the one string escaper and the byte writer, for the layers that may not import each other (HTTP
        // server, runtime, wire formats).
        .target(name: "JSONText", swiftSettings: swiftSettings),
        // The model runtime: checkpoint readers, configuration, kernels and the forward pass.
        .target(
            name: "SignBERTRuntime",
            dependencies: [
                "JSONText",
                "COpenBLAS",
                "CKernels",
                .product(name: "Yams", package: "Yams"),
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            swiftSettings: swiftSettings
        ),
        // The request and answer documents of the service, the CLI and the fuzzers: the JSON parser, `/predict`'s
        // request and response, the landmark and `.pose` request decoders. Over the runtime, never under it.
        .target(
            name: "WireFormats",
            dependencies: ["SignBERTRuntime", "JSONText"],
            swiftSettings: swiftSettings
        ),
        // HTTP/1.1 and HTTP/2 (h2c) on plain sockets and Dispatch; knows nothing of models.
        .target(
            name: "HTTPServer",
            dependencies: [
                "JSONText",
                "CNGHTTP2",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Routes, batching, metrics and lifecycle: the model behind the HTTP server.
        .target(
            name: "InferenceService",
            dependencies: [
                "SignBERTRuntime",
                "WireFormats",
                "JSONText",
                "HTTPServer",
                "CSystemZlib",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            // The OpenAPI document's static parts, compiled into the binary (the image ships the binary alone); the
            // browser demo page (GET /demo), read at start-up.
            resources: [.embedInCode("Resources/openapi-base.json"), .copy("Resources/demo")],
            swiftSettings: swiftSettings
        ),
        // The `signbert` command line: one file per subcommand.
        .executableTarget(
            name: "SignBERTCommand",
            dependencies: [
                "SignBERTRuntime",
                "WireFormats",
                "JSONText",
                "HTTPServer",
                "InferenceService",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SignBERTRuntimeTests",
            dependencies: ["SignBERTRuntime", "WireFormats", "CKernels", "TestSupport",
                           .product(name: "ZIPFoundation", package: "ZIPFoundation")],
            // Fixtures are read from the source tree (#filePath), not bundled.
            exclude: ["Fixtures"],
            swiftSettings: swiftSettings
        ),
        // What the test targets share: one HTTP/1.1 client core (the loopback socket) under the clients they use, and
        // the NaN-aware comparison of float outputs.
        .target(
            name: "TestSupport",
            dependencies: ["HTTPServer", "CNGHTTP2"],
            path: "Tests/TestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "HTTPServerTests",
            // CNGHTTP2 also drives the tests' own HTTP/2 client.
            dependencies: ["HTTPServer", "CNGHTTP2", "TestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "InferenceServiceTests",
            // CSystemZlib also compresses the request bodies of the Content-Encoding tests.
            dependencies: ["InferenceService", "SignBERTRuntime", "WireFormats", "HTTPServer", "CSystemZlib", "TestSupport",
                           .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "SignBERTCommandTests",
            dependencies: ["SignBERTCommand", "SignBERTRuntime", "TestSupport"],
            swiftSettings: swiftSettings
        ),
    ]
)
