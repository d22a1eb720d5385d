// swift-tools-version:5.4
import PackageDescription

// libFuzzer targets for every parser of untrusted bytes, in a package of their own so the server's build
// never carries the sanitizer flags. Build and run them with `tools/fuzz.sh`, which passes
// `-Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library` (each target defines
// `LLVMFuzzerTestOneInput`; libFuzzer supplies `main`).
//
// Tools version 5.4 on purpose: from 5.5 on, SwiftPM renames an executable's entry point (to link it into
// tests) and makes the linker demand `<Target>_main`, but here `main` is libFuzzer's. The harness code is
// plain enough for the Swift 5 language mode this implies; the server's modules keep their own settings.

/// The server's library products, from the package one directory up (named here, since a path
/// dependency is otherwise known by its directory's name, which differs between clones).
func server(_ product: String) -> Target.Dependency {
    .product(name: product, package: "signbert-server")
}

/// One executable per fuzz target: `Sources/<name>/main.swift`.
func fuzzTarget(_ name: String, _ dependencies: [Target.Dependency]) -> Target {
    .executableTarget(name: name, dependencies: ["FuzzSupport"] + dependencies)
}

let package = Package(
    name: "FuzzTesting",
    dependencies: [
        .package(name: "signbert-server", path: ".."),
    ],
    targets: [
        // Input slicing, invariant checks and the small writers (JSON, zip) the targets share.
        .target(name: "FuzzSupport", dependencies: [server("SignBERTRuntime"), server("WireFormats"), server("JSONText"),
                                                    server("HTTPServer")]),
        fuzzTarget("FuzzHTTPRequest", [server("HTTPServer")]),
        fuzzTarget("FuzzHTTPChunked", [server("HTTPServer")]),
        fuzzTarget("FuzzHTTP2Frames", [server("HTTPServer")]),
        fuzzTarget("FuzzWebSocketFrames", [server("HTTPServer")]),
        fuzzTarget("FuzzJSONParser", [server("SignBERTRuntime"), server("WireFormats")]),
        fuzzTarget("FuzzPredictJSON", [server("SignBERTRuntime"), server("WireFormats")]),
        fuzzTarget("FuzzOpenInference", [server("InferenceService"), server("SignBERTRuntime")]),
        fuzzTarget("FuzzGRPCFraming", [server("InferenceService"), server("SignBERTRuntime")]),
        fuzzTarget("FuzzPoseFile", [server("SignBERTRuntime"), server("WireFormats")]),
        fuzzTarget("FuzzUnpickler", [server("SignBERTRuntime")]),
        fuzzTarget("FuzzTorchZip", [server("SignBERTRuntime")]),
        fuzzTarget("FuzzSafeTensors", [server("SignBERTRuntime")]),
    ]
)
