import Foundation
import XCTest

/// The runtime's fixture files (read from the source tree) and what the command tests make of them.
enum CommandFixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../SignBERTRuntimeTests/Fixtures").standardized
    static let parity = root.appendingPathComponent("parity")
    static let readers = root.appendingPathComponent("checkpoint-readers")
    static let broken = parity.appendingPathComponent("broken")
    static let v1Small = parity.appendingPathComponent("v1-small")
    static let trainingRun = v1Small.appendingPathComponent("training_run/checkpoint_best.pth")
    static let trainingConfig = v1Small.appendingPathComponent("training_run/config.yaml")
    static let safetensorsF32 = v1Small.appendingPathComponent("model_f32.safetensors")
    static let v2TrainingRun = parity.appendingPathComponent("v2-training-run/training_run/checkpoint_best.pth")

    /// `v1-small/case.json`: its clips as a request body, and PyTorch's logits per weight dtype.
    struct Case {
        let shape: [Int]  // [B, T, V, C]
        let values: [Double]
        let expected: [String: [Float]]  // "f32" / "f16" / "bf16" → B × K logits, row-major
        let labels: [String]
        let numClasses: Int
        let tolerance: Float

        var batch: Int { shape[0] }

        /// `{"inputs": [[T][V][C] per clip], "return_logits": true, "top_k": topK}`.
        func requestBody(topK: Int = 3) throws -> Data {
            let (b, t, v, c) = (shape[0], shape[1], shape[2], shape[3])
            var clips: [[[[Double]]]] = []
            for clip in 0..<b {
                clips.append((0..<t).map { frame in
                    (0..<v).map { joint in
                        let start = ((clip * t + frame) * v + joint) * c
                        return Array(values[start..<start + c])
                    }
                })
            }
            return try JSONSerialization.data(withJSONObject: ["inputs": clips, "return_logits": true, "top_k": topK])
        }
    }

    static func v1SmallCase() throws -> Case { try parityCase("v1-small") }

    /// Any `parity/<name>/case.json` with labels and (B,T,V,C) clips.
    static func parityCase(_ name: String) throws -> Case {
        let data = try Data(contentsOf: parity.appendingPathComponent(name).appendingPathComponent("case.json"))
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let inputs = try XCTUnwrap(object["inputs"] as? [String: Any])
        let expected = try XCTUnwrap(object["expected"] as? [String: [[Double]]])
        let architecture = try XCTUnwrap(object["architecture"] as? [String: Any])
        return Case(
            shape: try XCTUnwrap(inputs["shape"] as? [Int]),
            values: try XCTUnwrap(inputs["values"] as? [Double]),
            expected: expected.mapValues { $0.flatMap { $0.map(Float.init) } },
            labels: try XCTUnwrap(object["labels"] as? [String]),
            numClasses: try XCTUnwrap(architecture["num_classes"] as? Int),
            tolerance: Float(try XCTUnwrap((object["tolerance"] as? [String: Any])?["max_abs"] as? Double)))
    }

    /// The `logits` of every prediction in a `{"predictions": [...]}` answer, concatenated.
    static func logits(fromPredictionJSON data: Data) throws -> [Float] {
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any],
                                   "not a JSON object: \(String(decoding: data.prefix(500), as: UTF8.self))")
        let predictions = try XCTUnwrap(object["predictions"] as? [[String: Any]], "no predictions in \(object)")
        return try predictions.flatMap { try XCTUnwrap($0["logits"] as? [Double], "no logits in \($0)").map(Float.init) }
    }
}
