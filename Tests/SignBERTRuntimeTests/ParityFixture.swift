import Foundation
import SignBERTRuntime
import XCTest

/// A case written by tools/make_fixtures.py: files, inputs and PyTorch's logits (`case.json`).
struct ParityCase {
    let name: String
    let folder: URL
    let architecture: SignBERTConfig
    let files: [String: String]
    let expectedKeyByFile: [String: String]
    let inputShape: [Int]
    let inputs: [Float]
    let expected: [String: [Float]]
    let tolerance: Float
    let labels: [String]?

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/parity")

    static func load(_ name: String) throws -> ParityCase {
        let folder = root.appendingPathComponent(name)
        let data = try Data(contentsOf: folder.appendingPathComponent("case.json"))
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let architecture = try JSONDecoder().decode(
            SignBERTConfig.self, from: JSONSerialization.data(withJSONObject: try XCTUnwrap(object["architecture"])))
        let inputs = try XCTUnwrap(object["inputs"] as? [String: Any])
        let expectedRows = try XCTUnwrap(object["expected"] as? [String: [[Double]]])
        let tolerance = try XCTUnwrap((object["tolerance"] as? [String: Any])?["max_abs"] as? Double)
        return ParityCase(
            name: name, folder: folder, architecture: architecture,
            files: try XCTUnwrap(object["files"] as? [String: String]),
            expectedKeyByFile: try XCTUnwrap(object["expected_key_by_file"] as? [String: String]),
            inputShape: try XCTUnwrap(inputs["shape"] as? [Int]),
            inputs: try XCTUnwrap(inputs["values"] as? [Double]).map(Float.init),
            expected: expectedRows.mapValues { $0.flatMap { $0.map(Float.init) } },
            tolerance: Float(tolerance),
            labels: object["labels"] as? [String])
    }

    func url(_ role: String) throws -> URL {
        folder.appendingPathComponent(try XCTUnwrap(files[role], "\(name) has no file for role \(role)"))
    }

    var batch: Int { inputShape[0] }
}
