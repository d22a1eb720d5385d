import SignBERTRuntime
import WireFormats

/// The OpenAPI 3 document served at `GET /openapi.json` (and printed by `signbert serve --print-openapi`;
/// docs/openapi.json is the bundled model's). Three parts, none of them text substitution:
/// - the static parts (info, parameters, request bodies, responses, schemas) are a JSON resource,
///   `Resources/openapi-base.json`, compiled into the binary;
/// - the paths come from the route table, one operation per route;
/// - the loaded model's geometry and the service's limits are set as values at their places, so the schemas
///   say exactly which shapes this server accepts.
enum OpenAPIDocument {
    static func served(config: SignBERTConfig, preparation: ClipPreparation, configuration: ServiceConfiguration,
                       routes: [ServiceRoute], models: [String]? = nil, versions: [String] = ["1"]) -> [UInt8] {
        let models = models ?? [configuration.modelName]
        var document = base
        let security = !configuration.apiKeys.isEmpty
        let joints = Double(config.numJoints), coords = Double(config.numCoords), features = Double(config.inputFeatures)
        let maxFrames = configuration.maxFrames, maxBatch = configuration.maxClipsPerRequest, frames = preparation.frames
        let preprocessing = "\(preparation.centre.rawValue)-centred (the preprocessing of training commit "
            + "\(preparation.centre.commit): \(preparation.centreSource))"

        document.set(["info", "version"], to: .string(InferenceServer.version))
        document.set(["info", "description"], to: .string(
            "Sign-language recognition with a SignBERT model. Clips are skeleton keypoints: [frames][\(config.numJoints) joints]"
                + "[\(config.numCoords) coords] or [frames][\(config.inputFeatures) features] numbers, raw MediaPipe Holistic "
                + "landmarks, or .pose files. Raw landmarks and .pose files are preprocessed as in training (interpolation, 64 "
                + "frames, the 27 joints, \(preprocessing) normalisation), then brought to the \(frames) frames the model was "
                + "trained on as its training loader did (the centre frames of a longer clip, the last frame repeated for a "
                + "shorter one); feature arrays get only that last step. A request may carry up to \(maxBatch) clips; more "
                + "clips than a batch holds are computed over several batches and answered once. Every error is a JSON object "
                + "{\"error\": \"...\"}."))
        document.set(["paths"], to: paths(routes, security: security, protectMetrics: configuration.protectMetrics))

        let parameters = ["components", "parameters"], schemas = ["components", "schemas"]
        document.set(parameters + ["ModelName", "schema", "enum"], to: .array(models.map { .string($0) }))
        document.set(parameters + ["ModelName", "description"], to: .string(models.count == 1
            ? "The served model's name (\(models[0])); any other name is a 404."
            : "A served model's name (\(models.joined(separator: ", ")); the first is the default model of /predict); any other name is a 404."))
        document.set(parameters + ["ModelVersion", "schema", "enum"], to: .array(versions.map { .string($0) }))
        let framesOption = JSONValue.string(
            "sample: a clip of any length is brought to the \(frames) frames the model was trained on (data.num_frames) as "
                + "the training loader did: the centre frames of a longer clip, the last frame repeated for a shorter one; "
                + "exact: a clip must have exactly \(frames) frames.")
        for path in [parameters + ["Frames", "schema"], schemas + ["PredictRequest", "properties", "frames"],
                     schemas + ["InstancesRequest", "properties", "parameters", "properties", "frames"],
                     schemas + ["InferRequest", "properties", "parameters", "properties", "frames"]] {
            document.set(path + ["description"], to: framesOption)
        }
        for (path, value) in [(["JointsFrame"], joints), (["JointsFrame", "items"], coords), (["FeaturesFrame"], features)] {
            document.set(schemas + path + ["minItems"], to: .number(value))
            document.set(schemas + path + ["maxItems"], to: .number(value))
        }
        document.set(schemas + ["KeypointClip", "description"], to: .string(
            "A clip of n frames (1 <= n <= \(maxFrames)), each [\(config.numJoints)][\(config.numCoords)] or "
                + "[\(config.inputFeatures)] numbers; all frames of a clip alike."))
        document.set(schemas + ["KeypointClip", "maxItems"], to: .number(Double(maxFrames)))
        document.set(schemas + ["HolisticClip", "properties", "frames", "maxItems"], to: .number(Double(maxFrames)))
        document.set(schemas + ["PredictRequest", "properties", "inputs", "maxItems"], to: .number(Double(maxBatch)))
        document.set(schemas + ["InstancesRequest", "properties", "instances", "maxItems"], to: .number(Double(maxBatch)))
        document.set(schemas + ["InferInput", "properties", "shape", "description"], to: .string(
            "[B, T, \(config.numJoints), \(config.numCoords)] or [B, T, \(config.inputFeatures)]; B <= \(maxBatch), "
                + "T <= \(maxFrames) (brought to \(frames) frames by a centre crop or by repeating the last frame, unless "
                + "parameters.frames is exact)"))

        if security {
            // With API keys, the operations that need one declare the bearer scheme and its 401.
            document.set(["components", "securitySchemes"],
                         to: .object([("bearer", .object([("type", .string("http")), ("scheme", .string("bearer"))]))]))
            document.set(["components", "responses", "Error401"],
                         to: OpenAPI.json("Missing or wrong API key (Authorization: Bearer <key>)", schema: "Error"))
        }
        return document.pretty()
    }

    /// The Paths Object: one Path Item per documented path, in the table's order, an operation per route.
    static func paths(_ routes: [ServiceRoute], security: Bool, protectMetrics: Bool) -> JSONValue {
        var items: [(key: String, value: JSONValue)] = []
        for route in routes {
            let (path, parameters) = documentedPath(route)
            let method = route.method.lowercased()
            let operation = route.operation.json(security: security && route.access.needsKey(protectMetrics: protectMetrics))
            if let index = items.firstIndex(where: { $0.key == path }) {
                // A second method on a path; the first entry of a method wins, as in the router.
                guard items[index].value[method] == nil else { continue }
                items[index].value.set([method], to: operation)
            } else {
                var item: [(key: String, value: JSONValue)] = []
                if !parameters.isEmpty { item.append(("parameters", .array(parameters))) }
                item.append((method, operation))
                items.append((path, .object(item)))
            }
        }
        return .object(items)
    }

    /// The shared path parameters the document names after the Open Inference Protocol's specification.
    static let pathParameters: [String: (name: String, component: String)] = [
        "name": ("model_name", "ModelName"), "version": ("model_version", "ModelVersion"),
    ]

    /// A route's path as documented (fixed parameters filled in, the others named as in the specification) and
    /// its path parameters.
    static func documentedPath(_ route: ServiceRoute) -> (String, [JSONValue]) {
        var parameters: [JSONValue] = []
        let segments = route.path.split(separator: "/", omittingEmptySubsequences: false).map { segment -> String in
            guard segment.count > 2, segment.first == "{", let close = segment.firstIndex(of: "}") else { return String(segment) }
            let name = String(segment[segment.index(after: segment.startIndex)..<close])
            // `{name}:predict`: the parameter, then a literal suffix.
            let suffix = String(segment[segment.index(after: close)...])
            if let shared = pathParameters[name] {
                parameters.append(OpenAPI.ref("parameters/" + shared.component))
                return "{\(shared.name)}" + suffix
            }
            parameters.append(.object([("name", .string(name)), ("in", .string("path")), ("required", .bool(true)),
                                       ("schema", .object([("type", .string("string"))]))]))
            return String(segment)
        }
        return (segments.joined(separator: "/"), parameters)
    }

    /// The static parts, parsed once.
    static let base: JSONValue = {
        do {
            return try JSONParser.parse(PackageResources.openapi_base_json)
        } catch {
            fatalError("Resources/openapi-base.json is not valid JSON: \(error)")
        }
    }()
}
