import Foundation
import SignBERTRuntime
import WireFormats
import XCTest

/// The same model behind every protocol: `/predict`, SageMaker's `/invocations`, Vertex AI's routes, KServe V1's
/// instances route and the Open Inference Protocol (V2) with JSON and binary tensors, over real sockets.
final class ProtocolRoutesTests: LiveInferenceTestCase {
    private var joints: Int { Self.loaded.config.numJoints }
    private var coords: Int { Self.loaded.config.numCoords }
    private var classes: Int { Self.loaded.config.numClasses }

    private func json(_ object: Any) throws -> Data { try JSONSerialization.data(withJSONObject: object) }

    /// A V2 binary request: the JSON header, then the tensor's little-endian bytes.
    private func binaryInfer(_ values: [Double], shape: [Int], datatype: String = "FP32",
                             extra: [String: Any] = [:]) throws -> (body: Data, headers: [String: String]) {
        var payload = Data()
        for value in values {
            switch datatype {
            case "FP64": withUnsafeBytes(of: value.bitPattern.littleEndian) { payload.append(contentsOf: $0) }
            case "FP16": withUnsafeBytes(of: Float16(value).bitPattern.littleEndian) { payload.append(contentsOf: $0) }
            default: withUnsafeBytes(of: Float(value).bitPattern.littleEndian) { payload.append(contentsOf: $0) }
            }
        }
        var request: [String: Any] = ["inputs": [["name": "keypoints", "shape": shape, "datatype": datatype,
                                                  "parameters": ["binary_data_size": payload.count]]]]
        request.merge(extra) { $1 }
        let header = try json(request)
        return (header + payload, ["Content-Type": "application/octet-stream",
                                   "Inference-Header-Content-Length": String(header.count)])
    }

    /// The float32 outputs of a V2 response, JSON or binary, by name.
    private func outputs(_ response: TestHTTPClient.Response) throws -> [String: [Float]] {
        let headerLength = response.headers["inference-header-content-length"].flatMap(Int.init) ?? response.body.count
        let header = try XCTUnwrap(JSONSerialization.jsonObject(with: response.body.prefix(headerLength)) as? [String: Any],
                                   String(decoding: response.body, as: UTF8.self))
        var offset = response.body.startIndex + headerLength
        var result: [String: [Float]] = [:]
        for output in try XCTUnwrap(header["outputs"] as? [[String: Any]]) {
            let name = try XCTUnwrap(output["name"] as? String)
            XCTAssertEqual(output["datatype"] as? String, "FP32")
            if let data = output["data"] as? [Double] {
                result[name] = data.map(Float.init)
            } else {
                let size = try XCTUnwrap((output["parameters"] as? [String: Any])?["binary_data_size"] as? Int)
                let bytes = response.body[offset..<offset + size]
                offset += size
                result[name] = stride(from: bytes.startIndex, to: bytes.endIndex, by: 4).map { index in
                    Float(bitPattern: bytes[index..<index + 4].enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * $1.offset) })
                }
            }
        }
        XCTAssertEqual(offset, response.body.endIndex, "binary outputs fill the rest of the body exactly")
        return result
    }

    private func predictionLogits(_ response: TestHTTPClient.Response) throws -> [Float] {
        let predictions = try XCTUnwrap(response.json?["predictions"] as? [[String: Any]],
                                        "\(response.status) \(String(decoding: response.body, as: UTF8.self))")
        return try predictions.flatMap { try XCTUnwrap($0["logits"] as? [Double]).map(Float.init) }
    }

    func testEveryRouteAnswersTheSameLogitsAsPyTorch() throws {
        let (_, client) = try start { service, _ in
            service.vertexPredictRoute = "/v1/endpoints/123/deployedModels/456:predict"
            service.vertexHealthRoute = "/v1/endpoints/123/deployedModels/456"
        }
        let (clips, expected, tolerance) = try Self.pytorchCase()
        let batch = clips.count, frames = clips[0].count
        let flat = clips.flatMap { $0.flatMap { $0 } }

        let predict = try predictionLogits(client.post("/predict", json: json(["inputs": clips, "return_logits": true])))
        let invocations = try predictionLogits(client.post("/invocations", json: json(["inputs": clips, "return_logits": true])))
        let instances = try json(["instances": clips, "parameters": ["return_logits": true]])
        let vertex = try predictionLogits(client.post("/v1/endpoints/123/deployedModels/456:predict", json: instances))
        let kserveV1 = try predictionLogits(client.post("/v1/models/signbert:predict", json: instances))
        let shape = [batch, frames, joints, coords]
        let v2JSON = try outputs(client.post("/v2/models/signbert/infer", json: json([
            "id": "equal", "inputs": [["name": "keypoints", "shape": shape, "datatype": "FP32", "data": flat]]])))
        let (body, headers) = try binaryInfer(flat, shape: shape, extra: ["parameters": ["binary_data_output": true]])
        let binaryResponse = try client.send("POST", "/v2/models/signbert/versions/1/infer", headers: headers, body: body)
        XCTAssertEqual(binaryResponse.headers["content-type"], "application/octet-stream")
        let v2Binary = try outputs(binaryResponse)

        XCTAssertEqual(predict.count, batch * classes)
        let maxDifference = maxAbsDifference(predict, expected)
        XCTAssertLessThanOrEqual(maxDifference, tolerance, "PyTorch parity over HTTP")
        // Identical float32 bits on every route: one decoder per protocol, one model, one batcher.
        XCTAssertEqual(invocations, predict)
        XCTAssertEqual(vertex, predict)
        XCTAssertEqual(kserveV1, predict)
        XCTAssertEqual(v2JSON["logits"], predict)
        XCTAssertEqual(v2Binary["logits"], predict)
        let probabilities = try XCTUnwrap(v2Binary["probabilities"])
        for row in 0..<batch {
            let sum = probabilities[row * classes..<(row + 1) * classes].reduce(0, +)
            XCTAssertEqual(sum, 1, accuracy: 1e-5)
        }
    }

    func testOpenInferenceBinaryTakesFP64AndFP16AndAnswersOnlyTheOutputsAskedFor() throws {
        let (_, client) = try start()
        let (clips, _, _) = try Self.pytorchCase()
        let clip = [clips[0]], flat = clip.flatMap { $0.flatMap { $0 } }
        let shape = [1, clip[0].count, joints, coords]
        let reference = try predictionLogits(client.post("/predict", json: json(["inputs": clip, "return_logits": true])))

        let only = ["outputs": [["name": "logits", "parameters": ["binary_data": true]]]]
        let (fp64, fp64Headers) = try binaryInfer(flat, shape: shape, datatype: "FP64", extra: only)
        let fp64Outputs = try outputs(client.send("POST", "/v2/models/signbert/infer", headers: fp64Headers, body: fp64))
        XCTAssertEqual(Array(fp64Outputs.keys), ["logits"])
        XCTAssertEqual(fp64Outputs["logits"], reference, "FP64 converts to the same float32 as the JSON path")

        let (fp16, fp16Headers) = try binaryInfer(flat, shape: shape, datatype: "FP16")
        let fp16Logits = try XCTUnwrap(outputs(client.send("POST", "/v2/models/signbert/infer", headers: fp16Headers, body: fp16))["logits"])
        XCTAssertEqual(fp16Logits.count, classes)
        // FP16 rounds the inputs to 11 bits, so the logits move a little, not a lot.
        XCTAssertLessThan(maxAbsDifference(fp16Logits, reference), 0.05)

        // [B,T,F] is the same clip; a shorter clip is sampled/padded like /predict's.
        let flatFeatures = try outputs(client.post("/v2/models/signbert/infer", json: json([
            "inputs": [["name": "keypoints", "shape": [1, clip[0].count, joints * coords], "datatype": "FP32", "data": flat]]])))
        XCTAssertEqual(flatFeatures["logits"], reference)
        let short = Array(clip[0].prefix(5))
        let sampled = try outputs(client.post("/v2/models/signbert/infer", json: json([
            "inputs": [["name": "keypoints", "shape": [1, 5, joints, coords], "datatype": "FP32", "data": short]]])))
        let predictShort = try predictionLogits(client.post("/predict", json: json(["inputs": [short], "return_logits": true])))
        XCTAssertEqual(sampled["logits"], predictShort)
    }

    func testOpenInferenceHealthAndMetadata() throws {
        let (_, client) = try start { service, _ in service.modelName = "gestures" }
        let server = try client.get("/v2")
        XCTAssertEqual(server.status, 200)
        XCTAssertEqual(server.json?["extensions"] as? [String], ["binary_tensor_data", "model_configuration", "model_repository", "statistics"])
        XCTAssertEqual(try client.get("/v2/health/live").json?["live"] as? Bool, true)
        XCTAssertEqual(try client.get("/v2/health/ready").json?["ready"] as? Bool, true)
        XCTAssertEqual(try client.get("/v2/models/gestures/ready").status, 200)
        XCTAssertEqual(try client.get("/v2/models/gestures/versions/1/ready").status, 200)
        let metadata = try client.get("/v2/models/gestures")
        XCTAssertEqual(metadata.json?["name"] as? String, "gestures")
        let inputs = try XCTUnwrap(metadata.json?["inputs"] as? [[String: Any]])
        XCTAssertEqual(inputs.first?["name"] as? String, "keypoints")
        XCTAssertEqual(inputs.first?["shape"] as? [Int], [-1, -1, joints, coords])
        let outputNames = try XCTUnwrap(metadata.json?["outputs"] as? [[String: Any]]).compactMap { $0["name"] as? String }
        XCTAssertEqual(outputNames, ["logits", "probabilities"])
        for path in ["/v2/models/signbert", "/v2/models/signbert/ready", "/v2/models/gestures/versions/2"] {
            let response = try client.get(path)
            XCTAssertEqual(response.status, 404, path)
            XCTAssertNotNil(response.json?["error"] as? String, path)
        }
        XCTAssertEqual(try client.post("/v2/models/other/infer", json: Data("{}".utf8)).status, 404)
        XCTAssertEqual(try client.get("/v1/models/gestures").json?["ready"] as? Bool, true)
        // Metrics label routes by pattern, so client-chosen names and versions cannot grow the registry.
        let metrics = String(decoding: try client.get("/metrics").body, as: UTF8.self)
        XCTAssertTrue(metrics.contains("route=\"/v2/models/{name}\""), metrics)
        XCTAssertTrue(metrics.contains("route=\"/v2/models/{name}/versions/{version}/ready\""), metrics)
        // (The configured name is in signbert_model_info and the per-model series' `model` label, one per served
        // version; no client-chosen name is a label.)
        let routed = metrics.split(separator: "\n").filter { !$0.hasPrefix("signbert_model_") }
        XCTAssertFalse(routed.contains { $0.contains("gestures") }, "no model name in a route label")
    }

    func testMalformedOpenInferenceRequestsNameTheFieldAndTheServerKeepsServing() throws {
        let (_, client) = try start { service, _ in service.maxClipsPerRequest = 4; service.maxFrames = 100 }
        let frames = Self.loaded.config.numFrames
        let good = [Double](repeating: 0.5, count: frames * joints * coords)
        func tensor(_ fields: [String: Any]) -> [String: Any] {
            var input: [String: Any] = ["name": "keypoints", "shape": [1, frames, joints, coords], "datatype": "FP32", "data": good]
            input.merge(fields) { $1 }
            return ["inputs": [input]]
        }
        let cases: [(String, Data, String)] = [
            ("not JSON", Data("{\"inputs\": [".utf8), "malformed JSON"),
            ("no inputs", try json(["id": "x"]), "missing field \"inputs\""),
            ("two inputs", try json(["inputs": [tensor([:])["inputs"] as Any, 1]]), "exactly one"),
            ("wrong name", try json(tensor(["name": "x"])), "inputs[0].name is \"x\""),
            ("wrong datatype", try json(tensor(["datatype": "INT8"])), "INT8"),
            ("wrong joints", try json(tensor(["shape": [1, frames, joints + 1, coords]])), "inputs[0].shape"),
            ("too many clips", try json(tensor(["shape": [5, frames, joints, coords]])), "at most 4"),
            ("too many frames", try json(tensor(["shape": [1, 101, joints, coords]])), "at most 100"),
            ("data count", try json(tensor(["shape": [2, frames, joints, coords]])), "its shape needs"),
            ("string data", try json(tensor(["data": ["a"]])), "inputs[0].data"),
            ("exact frames", try json(tensor(["shape": [1, 2, joints, coords], "data": [Double](repeating: 0, count: 2 * joints * coords)])
                                         .merging(["parameters": ["frames": "exact"]]) { $1 }), "exact"),
            ("unknown output", try json(tensor([:]).merging(["outputs": [["name": "embeddings"]]]) { $1 }), "outputs[0].name"),
            ("no data", try json(tensor(["data": NSNull()])), "neither"),
            ("FP16 overflow", try json(tensor(["datatype": "FP16", "data": [1e6] + good.dropFirst()])), "not a finite FP16"),
        ]
        for (name, body, message) in cases {
            let response = try client.post("/v2/models/signbert/infer", json: body)
            XCTAssertEqual(response.status, 400, name)
            let error = response.json?["error"] as? String ?? ""
            XCTAssertTrue(error.contains(message), "\(name): \(error)")
        }

        // Binary framing: header length past the body, sizes that disagree, bytes nobody declared, NaN.
        let (body, headers) = try binaryInfer(good, shape: [1, frames, joints, coords])
        var longHeader = headers
        longHeader["Inference-Header-Content-Length"] = String(body.count + 1)
        var truncated = body
        truncated.removeLast(4)
        var nan = body
        nan.replaceSubrange(nan.count - 4..<nan.count, with: [0x00, 0x00, 0xC0, 0x7F])
        let binaryCases: [(String, Data, [String: String], String)] = [
            ("header past body", body, longHeader, "has only"),
            ("header not a number", body, headers.merging(["Inference-Header-Content-Length": "abc"]) { $1 }, "positive whole number"),
            ("truncated tensor", truncated, headers, "declares"),
            ("extra bytes", body + Data([1, 2, 3, 4]), headers, "declares"),
            ("NaN", nan, headers, "not a finite float32"),
            ("octet-stream without header", body, ["Content-Type": "application/octet-stream"], "Inference-Header-Content-Length"),
        ]
        for (name, body, headers, message) in binaryCases {
            let response = try client.send("POST", "/v2/models/signbert/infer", headers: headers, body: body)
            XCTAssertEqual(response.status, 400, name)
            let error = response.json?["error"] as? String ?? ""
            XCTAssertTrue(error.contains(message), "\(name): \(error)")
        }
        let wrongType = try client.send("POST", "/v2/models/signbert/infer", headers: ["Content-Type": "text/csv"], body: Data("1,2".utf8))
        XCTAssertEqual(wrongType.status, 415)
        let (okBody, okHeaders) = try binaryInfer(good, shape: [1, frames, joints, coords])
        XCTAssertEqual(try client.send("POST", "/v2/models/signbert/infer", headers: okHeaders, body: okBody).status, 200,
                       "the server keeps serving")
    }

    func testPlatformRoutesAndTheirErrors() throws {
        let (_, client) = try start { service, _ in
            service.vertexPredictRoute = "/predict-vertex"
            service.vertexHealthRoute = "/health-vertex"
        }
        let ping = try client.get("/ping")
        XCTAssertEqual(ping.status, 200)
        XCTAssertTrue(ping.body.isEmpty, "SageMaker's ping has an empty body")
        XCTAssertEqual(try client.get("/health-vertex").status, 200)
        let (clips, _, _) = try Self.pytorchCase()
        let cases: [(Data, String)] = [
            (try json(["inputs": [clips[0]]]), "missing field \"instances\""),
            (try json(["instances": [clips[0]], "parameters": ["top_k": 0]]), "\"top_k\""),
            (try json(["instances": [clips[0]], "parameters": ["temperature": 2]]), "parameters.temperature"),
            (try json(["instances": [clips[0]], "parameters": [1]]), "\"parameters\" must be an object"),
            (try json(["instances": "clip"]), "\"inputs\" must be an array"),
        ]
        for (body, message) in cases {
            let response = try client.post("/predict-vertex", json: body)
            XCTAssertEqual(response.status, 400)
            let error = response.json?["error"] as? String ?? ""
            XCTAssertTrue(error.contains(message), error)
        }
        let answered = try client.post("/predict-vertex", json: json(["instances": [clips[0]], "parameters": ["top_k": 2]]))
        let predictions = try XCTUnwrap(answered.json?["predictions"] as? [[String: Any]])
        XCTAssertEqual((predictions.first?["top_k"] as? [Any])?.count, 2)
    }

    func testPredictTakesItsOptionsFromTheQueryStringToo() throws {
        let (_, client) = try start()
        let (clips, _, _) = try Self.pytorchCase()
        let body = try json(["inputs": [clips[0]]])
        let ranked = try client.post("/predict?top_k=2&return_logits=true", json: body)
        let prediction = try XCTUnwrap((ranked.json?["predictions"] as? [[String: Any]])?.first)
        XCTAssertEqual((prediction["top_k"] as? [Any])?.count, 2)
        XCTAssertNotNil(prediction["logits"])
        for (query, message) in [("top_k=0", "\"top_k\""), ("top_k=x", "query top_k"), ("limit=3", "\"limit\" is not known"),
                                 ("frames=all", "\"frames\"")] {
            let response = try client.post("/predict?\(query)", json: body)
            XCTAssertEqual(response.status, 400, query)
            XCTAssertTrue((response.json?["error"] as? String ?? "").contains(message), query)
        }
        let both = try client.post("/predict?top_k=2", json: json(["inputs": [clips[0]], "top_k": 3]))
        XCTAssertEqual(both.status, 400)
        XCTAssertTrue((both.json?["error"] as? String ?? "").contains("both in the query string and in the body"))
    }

    func testOpenAPIDocumentDescribesEveryRoute() throws {
        let (_, client) = try start { service, _ in service.vertexPredictRoute = "/vertex/predict" }
        let response = try client.get("/openapi.json")
        XCTAssertEqual(response.status, 200)
        let document = try XCTUnwrap(response.json)
        XCTAssertEqual(document["openapi"] as? String, "3.0.3")
        let paths = try XCTUnwrap(document["paths"] as? [String: Any])
        for path in ["/", "/health", "/ready", "/metrics", "/openapi.json", "/predict", "/invocations", "/ping",
                     "/v1/models/signbert", "/v1/models/signbert:predict", "/v2", "/v2/health/live", "/v2/health/ready",
                     "/v2/models/{model_name}", "/v2/models/{model_name}/ready", "/v2/models/{model_name}/infer",
                     "/vertex/predict"] {
            XCTAssertNotNil(paths[path], path)
        }
        // The schemas carry this model's geometry.
        let schemas = try XCTUnwrap((document["components"] as? [String: Any])?["schemas"] as? [String: Any])
        let frame = try XCTUnwrap(schemas["JointsFrame"] as? [String: Any])
        XCTAssertEqual(frame["minItems"] as? Int, joints)
    }

    func testPoseFilesAndLandmarkClipsGoThroughEveryPredictionRoute() throws {
        let (_, client) = try start()
        let config = Self.loaded.config
        let poseURL = Self.fixtures.appendingPathComponent("../../preprocess/synthetic-v02.pose").standardized
        let pose = try Data(contentsOf: poseURL)
        // The clip the route must have computed: the .pose file preprocessed, sent as a plain array clip.
        let input = try PredictionRequestDecoder.decodePose(pose, config: config, preparation: Self.loaded.preparation)
        let rows = stride(from: 0, to: input.count, by: config.inputFeatures).map { Array(input[$0..<$0 + config.inputFeatures]).map(Double.init) }
        let reference = try predictionLogits(client.post("/predict", json: json(["inputs": [rows], "return_logits": true])))
        let poseHeaders = ["Content-Type": "application/x-pose"]
        let viaPredict = try client.send("POST", "/predict?return_logits=true&top_k=2", headers: poseHeaders, body: pose)
        XCTAssertEqual(try predictionLogits(viaPredict), reference)
        let topK = (viaPredict.json?["predictions"] as? [[String: Any]])?.first?["top_k"] as? [Any]
        XCTAssertEqual(topK?.count, 2, "query options apply to a .pose body")
        XCTAssertEqual(try predictionLogits(client.send("POST", "/invocations?return_logits=true", headers: poseHeaders, body: pose)),
                       reference)

        // A landmark clip (the repo's example request) through /predict and the instances route alike.
        let example = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: Self.fixtures
            .appendingPathComponent("../../../../../examples/holistic-request.json").standardized)) as? [String: Any])
        let landmarks = try XCTUnwrap(example["inputs"] as? [Any])
        let predicted = try predictionLogits(client.post("/predict", json: json(["inputs": landmarks, "return_logits": true])))
        let instances = try predictionLogits(client.post("/v1/models/signbert:predict",
                                                         json: json(["instances": landmarks, "parameters": ["return_logits": true]])))
        XCTAssertEqual(predicted.count, classes)
        XCTAssertEqual(instances, predicted)

        // Malformed .pose bodies are 400s that say so; the server keeps serving.
        for body in [Data(), pose.prefix(40), pose.prefix(pose.count - 7), Data(repeating: 0xFF, count: 512)] {
            let response = try client.send("POST", "/predict", headers: poseHeaders, body: body)
            XCTAssertEqual(response.status, 400, "\(body.count) bytes")
            XCTAssertTrue((response.json?["error"] as? String ?? "").contains(".pose"), "\(response.json ?? [:])")
        }
        let exact = try client.send("POST", "/predict?frames=exact", headers: poseHeaders, body: pose)
        XCTAssertEqual(exact.status, 400, "the file's frame count is not the model's 16")
        XCTAssertEqual(try client.send("POST", "/predict", headers: poseHeaders, body: pose).status, 200)
    }
}
