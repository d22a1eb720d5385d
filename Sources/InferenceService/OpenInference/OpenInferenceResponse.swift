import Foundation
import HTTPServer
import JSONText
import SignBERTRuntime
import WireFormats

/// The infer response: `{"model_name", "model_version", "id", "outputs": [...]}`; outputs asked for as binary
/// carry `parameters.binary_data_size` and their float32 little-endian bytes follow the JSON, in order, with
/// `Inference-Header-Content-Length` giving the JSON's length (the binary tensor extension).
enum OpenInferenceResponseEncoder {
    static func encode(logits: [Float], batch: Int, numClasses: Int, request: OpenInferenceRequest,
                       modelName: String, modelVersion: String) -> HTTPResponse {
        var json = JSONWriter()
        json.raw("{\"model_name\":")
        json.string(modelName)
        json.raw(",\"model_version\":")
        json.string(modelVersion)
        if let id = request.id {
            json.raw(",\"id\":")
            json.string(id)
        }
        json.raw(",\"outputs\":[")
        var binary: [UInt8] = []
        for (index, output) in request.outputs.enumerated() {
            let values = output.name == .logits ? logits : probabilities(logits, numClasses: numClasses)
            if index > 0 { json.raw(",") }
            json.raw("{\"name\":\"\(output.name.rawValue)\",\"datatype\":\"FP32\",\"shape\":[\(batch),\(numClasses)]")
            if output.binary {
                json.raw(",\"parameters\":{\"binary_data_size\":\(values.count * 4)}}")
                appendLittleEndian(values, to: &binary)
            } else {
                json.raw(",\"data\":[")
                for (i, value) in values.enumerated() {
                    if i > 0 { json.raw(",") }
                    json.number(Double(value), asFloat: true)
                }
                json.raw("]}")
            }
        }
        json.raw("]}")
        if binary.isEmpty { return .json(bytes: json.bytes) }
        let headerLength = json.bytes.count
        return HTTPResponse(status: 200, headers: ["Content-Type": "application/octet-stream",
                                                   "Inference-Header-Content-Length": String(headerLength)],
                            body: json.bytes + binary)
    }

    /// Row-wise softmax (`Prediction.softmax`, in double), as float32.
    static func probabilities(_ logits: [Float], numClasses: Int) -> [Float] {
        var out = [Float](repeating: 0, count: logits.count)
        for start in stride(from: 0, to: logits.count, by: numClasses) {
            for (j, value) in Prediction.softmax(logits[start..<start + numClasses]).enumerated() { out[start + j] = Float(value) }
        }
        return out
    }

    static func appendLittleEndian(_ values: [Float], to bytes: inout [UInt8]) {
        bytes.reserveCapacity(bytes.count + values.count * 4)
        for value in values {
            let bits = value.bitPattern.littleEndian
            withUnsafeBytes(of: bits) { bytes.append(contentsOf: $0) }
        }
    }
}
