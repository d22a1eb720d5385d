import HTTPServer
import JSONText
import SignBERTRuntime

/// The Open Inference Protocol (KServe V2, spoken by Triton, KServe and Seldon clients): server and model
/// health and metadata, and `infer` with JSON or binary tensors. Errors are `{"error": "..."}`.
extension InferenceRoutes {
    func v2ServerReady(_ respond: @escaping @Sendable (HTTPResponse) -> Void) {
        respond(isReady ? .json(bytes: Array("{\"ready\":true}".utf8)) : Self.unavailableJSON("{\"ready\":false}"))
    }

    func v2ModelMetadata(_ parameters: RouteParameters, _ respond: @escaping @Sendable (HTTPResponse) -> Void) {
        withModel(parameters, respond) { respond(.json(bytes: modelMetadata())) }
    }

    func v2ModelReady(_ parameters: RouteParameters, _ respond: @escaping @Sendable (HTTPResponse) -> Void) {
        withModel(parameters, respond) {
            let body = Array("{\"name\":\(JSONWriter.quoted(configuration.modelName)),\"ready\":\(isReady)}".utf8)
            respond(isReady ? .json(bytes: body) : Self.unavailableJSON(String(decoding: body, as: UTF8.self)))
        }
    }

    /// Runs `body` when the path names this model (and its version if any), else answers 404 (the router resolved
    /// the model already; this guards a handler called on another model's routes).
    func withModel(_ parameters: RouteParameters, _ respond: @escaping @Sendable (HTTPResponse) -> Void,
                           _ body: () -> Void) {
        guard parameters["name"] == configuration.modelName else {
            respond(.error(status: 404, message: "unknown model \"\(parameters["name"] ?? "")\"; this server serves \"\(configuration.modelName)\""))
            return
        }
        if let version = parameters["version"], version != modelVersion {
            respond(.error(status: 404, message: "unknown version \"\(version)\" of model \"\(configuration.modelName)\"; it has version \"\(modelVersion)\""))
            return
        }
        body()
    }

    /// Every served version of this model, lowest first (the metadata's `versions`).
    var servedVersions: [String] {
        let versions = context.repository.served.filter { $0.name == configuration.modelName }.map(\.version)
        return (versions.isEmpty ? [version] : versions).map(String.init)
    }

    static func unavailableJSON(_ body: String) -> HTTPResponse {
        var response = HTTPResponse.json(status: 503, bytes: Array(body.utf8))
        response.headers.replace(name: "Retry-After", value: "1")
        return response
    }

    /// The protocol extensions this server offers, by Triton's names.
    static let extensions = ["binary_tensor_data", "model_configuration", "model_repository", "statistics"]

    func serverMetadata() -> [UInt8] {
        let extensions = Self.extensions.map { "\"\($0)\"" }.joined(separator: ",")
        return Array("{\"name\":\"signbert\",\"version\":\"\(InferenceServer.version)\",\"extensions\":[\(extensions)]}".utf8)
    }

    /// The input is declared with any batch and any frame count (clips are brought to D like `/predict`'s);
    /// `[B,T,V·C]` is accepted as well.
    func modelMetadata() -> [UInt8] {
        let config = loaded.config
        var json = JSONWriter()
        json.raw("{\"name\":")
        json.string(configuration.modelName)
        json.raw(",\"versions\":[")
        json.raw(servedVersions.map { "\"\($0)\"" }.joined(separator: ","))
        json.raw("],\"platform\":\"signbert\",\"inputs\":[")
        json.raw("{\"name\":\"\(OpenInferenceRequest.inputName)\",\"datatype\":\"FP32\",\"shape\":[-1,-1,\(config.numJoints),\(config.numCoords)]}")
        json.raw("],\"outputs\":[")
        for (index, name) in OpenInferenceOutputName.allCases.enumerated() {
            if index > 0 { json.raw(",") }
            json.raw("{\"name\":\"\(name.rawValue)\",\"datatype\":\"FP32\",\"shape\":[-1,\(config.numClasses)]}")
        }
        json.raw("]}")
        return json.bytes
    }

    /// 415 (or 400 for binary data without its header length) from the head too, before the body is read.
    @Sendable static func openInferContentType(_ request: HTTPRequest) -> HTTPResponse? {
        guard request.headers["Inference-Header-Content-Length"] == nil, let contentType = request.headers["Content-Type"],
              !isJSON(contentType) else { return nil }
        if mediaType(contentType) == "application/octet-stream" {
            return .error(status: 400, message: "a binary inference request needs the Inference-Header-Content-Length header (the length of its JSON part)")
        }
        return .error(status: 415, message: "Content-Type must be application/json, or application/octet-stream with Inference-Header-Content-Length; got \(contentType)")
    }

    func openInfer(_ request: HTTPRequest, _ parameters: RouteParameters,
                   _ respond: @escaping @Sendable (HTTPResponse) -> Void) {
        withModel(parameters, respond) { openInfer(request, respond) }
    }

    func openInfer(_ request: HTTPRequest, _ respond: @escaping @Sendable (HTTPResponse) -> Void) {
        let headerLength = request.headers["Inference-Header-Content-Length"]
        if let refusal = Self.openInferContentType(request) { return respond(refusal) }
        let name = configuration.modelName, numClasses = loaded.config.numClasses, version = modelVersion
        infer(request, respond, decode: { () throws(RequestError) in
            let decoded = try OpenInferenceRequestDecoder.decode(
                request.body, headerLength: headerLength, config: loaded.config, preparation: loaded.preparation,
                maxClips: configuration.maxClipsPerRequest, maxFrames: configuration.maxFrames)
            var answer = decoded
            answer.clips = []  // the job holds the clips; the answer needs only the outputs asked for
            return (Clips(values: decoded.clips, batch: decoded.batch), answer)
        }, render: { logits, decoded in
            OpenInferenceResponseEncoder.encode(logits: logits, batch: decoded.batch, numClasses: numClasses,
                                                request: decoded, modelName: name, modelVersion: version)
        })
    }
}
