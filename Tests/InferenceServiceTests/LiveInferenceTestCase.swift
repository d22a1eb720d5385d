import Foundation
import HTTPServer
@testable import InferenceService
import Logging
import SignBERTRuntime
import XCTest

/// Starts `InferenceServer`s on loopback with the small PyTorch fixture model and stops them after each test.
class LiveInferenceTestCase: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../SignBERTRuntimeTests/Fixtures/parity/v1-small").standardized
    static let loaded: LoadedModel = {
        // swiftlint:disable:next force_try
        try! ModelLoader.load(ModelSource(checkpoint: fixtures.appendingPathComponent("training_run/checkpoint_best.pth")))
    }()

    private var servers: [InferenceServer] = []

    override func tearDown() {
        for server in servers { server.shutdown() }
        servers = []
    }

    /// `extraRoutes` go after the service's own route table.
    func start(model: LoadedModel = LiveInferenceTestCase.loaded, extraRoutes: [ServiceRoute] = [],
               _ configure: (inout ServiceConfiguration, inout HTTPServerConfiguration) -> Void = { _, _ in })
        throws -> (InferenceServer, TestHTTPClient) {
        var service = ServiceConfiguration()
        var http = HTTPServerConfiguration()
        http.host = "127.0.0.1"
        http.port = 0
        configure(&service, &http)
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let server = InferenceServer(loaded: model, configuration: service, http: http, logger: logger,
                                     extraRoutes: extraRoutes)
        try server.start()
        servers.append(server)
        XCTAssertTrue(server.waitUntilReady())
        return (server, TestHTTPClient(port: server.port))
    }

    /// The fixture's clips ([batch][T][V·C]) and PyTorch's float32 logits for them, with the tolerance.
    static func pytorchCase() throws -> (clips: [[[Double]]], expected: [Float], tolerance: Float) {
        let fixture = try JSONSerialization.jsonObject(with: Data(contentsOf: fixtures.appendingPathComponent("case.json"))) as? [String: Any]
        let inputs = try XCTUnwrap((fixture?["inputs"] as? [String: Any])?["values"] as? [Double])
        let expected = try XCTUnwrap((fixture?["expected"] as? [String: Any])?["f32"] as? [[Double]]).flatMap { $0.map(Float.init) }
        let tolerance = try XCTUnwrap((fixture?["tolerance"] as? [String: Any])?["max_abs"] as? Double)
        let features = loaded.config.inputFeatures, frames = loaded.config.numFrames
        let rows = stride(from: 0, to: inputs.count, by: features).map { Array(inputs[$0..<$0 + features]) }
        let clips = stride(from: 0, to: rows.count, by: frames).map { Array(rows[$0..<$0 + frames]) }
        return (clips, expected, Float(tolerance))
    }
}
