import HTTPServer
import SignBERTRuntime
import WireFormats

/// The route table: every route the service answers, in one list. The router, the OpenAPI paths, the metric
/// labels (a route's pattern) and the API-key rule are all made from it; the handlers live in the protocol's
/// extension file (`+Predict`, `+Platforms`, `+OpenInference`).
extension InferenceRoutes {
    /// `repository`: several models may be served (`--model-repository`), so KServe V1's routes take any name;
    /// with one model they are routed at its name only, as before.
    static func table(_ configuration: ServiceConfiguration, repository: Bool = false) -> [ServiceRoute] {
        let v1Name: [String: String] = repository ? [:] : ["name": configuration.modelName]
        let prediction = OpenAPI.predictionFailures()
        let queryOptions = ["TopK", "ReturnLogits", "Frames"].map { OpenAPI.ref("parameters/" + $0) }
        var table: [ServiceRoute] = [
            // Operations.
            ServiceRoute("GET", "/", access: .open, OpenAPIOperation(
                id: "describe", summary: "The model: architecture, labels, limits", responses: [
                    ("200", OpenAPI.json("The model's description, with \"status\": \"alive\" (what KServe V1 clients read for liveness)",
                                         .object([("type", .string("object")), ("required", .array([.string("status")])),
                                                  ("properties", .object([("status", .object([
                                                      ("type", .string("string")), ("enum", .array([.string("alive")]))]))]))]))),
                ])) { routes, _, _, respond in respond(.json(bytes: routes.context.describe(default: routes))) },
            ServiceRoute("GET", "/health", access: .open, OpenAPIOperation(
                id: "health", summary: "Liveness: the process answers", responses: [("200", OpenAPI.json("Alive", schema: "Status"))])
            ) { _, _, _, respond in respond(.json(bytes: Array("{\"status\":\"alive\"}".utf8))) },
            ServiceRoute("GET", "/ready", access: .open, OpenAPIOperation(
                id: "ready", summary: "Readiness: 200 once the model is warm, 503 while starting or draining", responses: [
                    ("200", OpenAPI.json("Ready", schema: "Status")),
                    ("503", OpenAPI.json("Not ready (starting, draining or stopped)", OpenAPI.ref("schemas/Status"),
                                         headers: .object([("Retry-After", .object([("schema", .object([("type", .string("string"))]))]))]))),
                ])) { routes, _, _, respond in respond(routes.readiness()) },
            ServiceRoute("GET", "/metrics", access: .keyWhenMetricsProtected, OpenAPIOperation(
                id: "metrics", summary: "Prometheus metrics", responses: [
                    ("200", .object([("description", .string("Prometheus text format 0.0.4")),
                                     ("content", .object([("text/plain", .object([("schema", .object([("type", .string("string"))]))]))]))])),
                ])) { routes, _, _, respond in routes.metricsExposition(respond) },
            ServiceRoute("GET", "/openapi.json", access: .open, OpenAPIOperation(
                id: "openapi", summary: "This document",
                responses: [("200", OpenAPI.json("OpenAPI 3 document", .object([("type", .string("object"))])))])
            ) { routes, _, _, respond in respond(.json(bytes: routes.context.openAPIDocument(default: routes))) },

            // signbert's own contract, and SageMaker's.
            ServiceRoute("POST", "/predict", access: .key, OpenAPIOperation(
                id: "predict", summary: "Predict the signs of one or more clips", parameters: queryOptions,
                requestBody: OpenAPI.ref("requestBodies/Predict"),
                responses: [("200", OpenAPI.ref("responses/Predictions"))] + prediction),
                headCheck: predictContentType) { routes, request, _, respond in routes.predict(request, respond) },
            ServiceRoute("POST", "/invocations", access: .key, OpenAPIOperation(
                id: "invocations", summary: "SageMaker's inference route: the same contract as /predict", parameters: queryOptions,
                requestBody: OpenAPI.ref("requestBodies/Predict"),
                responses: [("200", OpenAPI.ref("responses/Predictions"))] + prediction),
                headCheck: predictContentType) { routes, request, _, respond in routes.predict(request, respond) },
            ServiceRoute("GET", "/ping", access: .open, OpenAPIOperation(
                id: "ping", summary: "SageMaker's health check: 200 with an empty body once ready", responses: [
                    ("200", .object([("description", .string("Ready (empty body)"))])), ("503", OpenAPI.ref("responses/Error503")),
                ])) { routes, _, _, respond in routes.ping(respond) },

            // TorchServe's form of /predict that names the model (and a version).
            ServiceRoute("POST", "/predictions/{name}", access: .key, OpenAPIOperation(
                id: "predictModel", summary: "/predict for the named model (TorchServe's route)", parameters: queryOptions,
                requestBody: OpenAPI.ref("requestBodies/Predict"),
                responses: [("200", OpenAPI.ref("responses/Predictions"))] + OpenAPI.predictionFailures(notFound: true)),
                headCheck: predictContentType) { routes, request, _, respond in routes.predict(request, respond) },
            ServiceRoute("POST", "/predictions/{name}/{version}", access: .key, OpenAPIOperation(
                id: "predictModelVersion", summary: "/predict for a version of the named model (TorchServe's route)",
                parameters: queryOptions, requestBody: OpenAPI.ref("requestBodies/Predict"),
                responses: [("200", OpenAPI.ref("responses/Predictions"))] + OpenAPI.predictionFailures(notFound: true)),
                headCheck: predictContentType) { routes, request, _, respond in routes.predict(request, respond) },

            // KServe V1: the models, each model's status and predictions.
            ServiceRoute("GET", "/v1/models", access: .open, OpenAPIOperation(
                id: "v1Models", summary: "KServe V1: the served models", responses: [
                    ("200", OpenAPI.json("The names of the served models", .object([
                        ("type", .string("object")), ("required", .array([.string("models")])),
                        ("properties", .object([("models", .object([("type", .string("array")),
                                                                   ("items", .object([("type", .string("string"))]))]))]))]))),
                ])) { routes, _, _, respond in respond(routes.v1Models()) },
            ServiceRoute("GET", "/v1/models/{name}", fixed: v1Name, access: .open, OpenAPIOperation(
                id: "v1ModelStatus", summary: "KServe V1 model status", responses: [
                    ("200", OpenAPI.json("Ready", schema: "ModelReady")), ("503", OpenAPI.json("Not ready", schema: "ModelReady")),
                    ("404", OpenAPI.ref("responses/Error404")),
                ])) { routes, _, _, respond in routes.v1ModelStatus(respond) },
            ServiceRoute("POST", "/v1/models/{name}:predict", fixed: v1Name, access: .key, OpenAPIOperation(
                id: "v1Predict", summary: "Instances in, predictions out (KServe V1, TensorFlow Serving and Vertex AI's contract)",
                requestBody: OpenAPI.ref("requestBodies/Instances"),
                responses: [("200", OpenAPI.ref("responses/Predictions"))] + OpenAPI.predictionFailures(notFound: true)),
                headCheck: jsonContentType) { routes, request, _, respond in routes.instances(request, respond) },

            // The Open Inference Protocol (KServe V2): the server.
            ServiceRoute("GET", "/v2", access: .open, OpenAPIOperation(
                id: "v2ServerMetadata", summary: "Open Inference Protocol: server metadata",
                responses: [("200", OpenAPI.json("Server metadata", schema: "ServerMetadata"))])
            ) { routes, _, _, respond in respond(.json(bytes: routes.serverMetadata())) },
            ServiceRoute("GET", "/v2/health/live", access: .open, OpenAPIOperation(
                id: "v2Live", summary: "Open Inference Protocol: server liveness", responses: [
                    ("200", OpenAPI.json("Live", .object([("type", .string("object")),
                                                          ("properties", .object([("live", .object([("type", .string("boolean"))]))])),
                                                          ("required", .array([.string("live")]))]))),
                ])) { _, _, _, respond in respond(.json(bytes: Array("{\"live\":true}".utf8))) },
            ServiceRoute("GET", "/v2/health/ready", access: .open, OpenAPIOperation(
                id: "v2Ready", summary: "Open Inference Protocol: server readiness", responses: [
                    ("200", OpenAPI.json("Ready", schema: "Ready")), ("503", OpenAPI.json("Not ready", schema: "Ready")),
                ])) { routes, _, _, respond in routes.v2ServerReady(respond) },
            // Triton's statistics extension: every model (the exact segment wins over the model routes' {name}).
            ServiceRoute("GET", "/v2/models/stats", access: .open, OpenAPIOperation(
                id: "v2Statistics", summary: "Triton's statistics extension: every model's inference statistics",
                responses: [("200", OpenAPI.json("The statistics of every model version", schema: "ModelStatisticsResponse"))])
            ) { routes, _, _, respond in routes.v2Statistics(RouteParameters(), respond) },
        ]
        // The model routes, unversioned and versioned (`/versions/1`), from one loop.
        for (prefix, suffix) in [("/v2/models/{name}", ""), ("/v2/models/{name}/versions/{version}", "Version")] {
            table += [
                ServiceRoute("GET", prefix, access: .open, OpenAPIOperation(
                    id: "v2ModelMetadata" + suffix, summary: "Open Inference Protocol: model metadata", responses: [
                        ("200", OpenAPI.json("Model metadata", schema: "ModelMetadata")), ("404", OpenAPI.ref("responses/Error404")),
                    ])) { routes, _, parameters, respond in routes.v2ModelMetadata(parameters, respond) },
                ServiceRoute("GET", prefix + "/ready", access: .open, OpenAPIOperation(
                    id: "v2ModelReady" + suffix, summary: "Open Inference Protocol: model readiness", responses: [
                        ("200", OpenAPI.json("Ready", schema: "ModelReady")), ("503", OpenAPI.json("Not ready", schema: "ModelReady")),
                        ("404", OpenAPI.ref("responses/Error404")),
                    ])) { routes, _, parameters, respond in routes.v2ModelReady(parameters, respond) },
                ServiceRoute("GET", prefix + "/config", access: .open, OpenAPIOperation(
                    id: "v2ModelConfig" + suffix, summary: "Triton's model configuration extension: max_batch_size, inputs, outputs, batching",
                    responses: [
                        ("200", OpenAPI.json("The model configuration", schema: "ModelConfig")), ("404", OpenAPI.ref("responses/Error404")),
                    ])) { routes, _, parameters, respond in routes.v2ModelConfig(parameters, respond) },
                ServiceRoute("GET", prefix + "/stats", access: .open, OpenAPIOperation(
                    id: "v2ModelStatistics" + suffix, summary: "Triton's statistics extension: the model's inference statistics",
                    responses: [
                        ("200", OpenAPI.json("The model's statistics", schema: "ModelStatisticsResponse")),
                        ("404", OpenAPI.ref("responses/Error404")),
                    ])) { routes, _, parameters, respond in routes.v2Statistics(parameters, respond) },
                ServiceRoute("POST", prefix + "/infer", access: .key, OpenAPIOperation(
                    id: "v2Infer" + suffix, summary: "Open Inference Protocol: inference (JSON or binary tensors)",
                    parameters: [.object([
                        ("name", .string("Inference-Header-Content-Length")), ("in", .string("header")), ("required", .bool(false)),
                        ("schema", .object([("type", .string("integer")), ("minimum", .number(1))])),
                        ("description", .string("Binary tensor extension: the length of the JSON part of the body")),
                    ])],
                    requestBody: OpenAPI.ref("requestBodies/Infer"),
                    responses: [("200", .object([
                        ("description", .string("The outputs (binary outputs follow the JSON part, whose length is in Inference-Header-Content-Length)")),
                        ("content", .object([
                            ("application/json", .object([("schema", OpenAPI.ref("schemas/InferResponse"))])),
                            ("application/octet-stream", .object([("schema", .object([("type", .string("string")), ("format", .string("binary"))]))])),
                        ])),
                    ]))] + OpenAPI.predictionFailures(notFound: true)),
                    headCheck: openInferContentType) { routes, request, parameters, respond in routes.openInfer(request, parameters, respond) },
            ]
        }
        // Triton's model repository extension: the index, and loading and unloading at run time.
        let repositoryResponses: [(status: String, response: JSONValue)] = [
            ("200", OpenAPI.json("Done", .object([("type", .string("object"))]))),
            ("400", OpenAPI.ref("responses/Error400")),
            ("403", OpenAPI.json("On a server without API keys, a caller that is not on loopback (--model-control)", schema: "Error")),
            ("404", OpenAPI.ref("responses/Error404")),
        ]
        table += [
            ServiceRoute("POST", "/v2/repository/index", access: .key, OpenAPIOperation(
                id: "v2RepositoryIndex", summary: "Triton's model repository index: every model and version, its state and reason",
                responses: [("200", OpenAPI.json("The models", .object([("type", .string("array")), ("items", .object([
                    ("type", .string("object")), ("required", .array([.string("name")])),
                    ("properties", .object(["name", "version", "state", "reason"].map { ($0, .object([("type", .string("string"))])) })),
                ]))]))), ("400", OpenAPI.ref("responses/Error400"))]),
                binding: .server) { routes, request, _, respond in routes.repositoryIndex(request, respond) },
            ServiceRoute("POST", "/v2/repository/models/{name}/load", access: .modelControl, OpenAPIOperation(
                id: "v2RepositoryLoad", summary: "Load a model's new versions from the repository (served once warm; removed versions are unloaded)",
                responses: repositoryResponses),
                binding: .server) { routes, _, parameters, respond in routes.repositoryLoad(parameters, respond) },
            ServiceRoute("POST", "/v2/repository/models/{name}/unload", access: .modelControl, OpenAPIOperation(
                id: "v2RepositoryUnload", summary: "Unload a model: its queued requests are answered first",
                responses: repositoryResponses),
                binding: .server) { routes, _, parameters, respond in routes.repositoryUnload(parameters, respond) },
        ]
        // Live streams over WebSocket (docs/STREAMING.md): a GET that upgrades; every refusal is an HTTP answer
        // before the 101.
        let streamResponses: [(status: String, response: JSONValue)] = [
            ("101", .object([("description", .string("Switching Protocols: the stream's WebSocket (subprotocol signbert.stream.v1)"))])),
            ("400", OpenAPI.ref("responses/Error400")),
            ("403", OpenAPI.json("The Origin is neither this server's own nor in the CORS list", schema: "Error")),
            ("426", OpenAPI.json("Not a WebSocket handshake (GET with Upgrade: websocket, Sec-WebSocket-Version: 13)", schema: "Error")),
            ("503", OpenAPI.ref("responses/Error503")),
        ]
        table += [
            ServiceRoute("GET", "/stream", access: .key, OpenAPIOperation(
                id: "stream", summary: "Live recognition over a WebSocket: frames in, window predictions and sign events out",
                responses: streamResponses)) { routes, request, _, respond in respond(routes.openStream(request)) },
            ServiceRoute("GET", "/v2/models/{name}/stream", access: .key, OpenAPIOperation(
                id: "v2ModelStream", summary: "Live recognition of the named model over a WebSocket (as /stream)",
                responses: streamResponses + [("404", OpenAPI.ref("responses/Error404"))])
            ) { routes, request, parameters, respond in routes.modelStream(request, parameters, respond) },
        ]
        // The browser demo page and its files, where the configuration turns it on.
        if configuration.demoPage {
            for file in DemoPage.files {
                let path = file.path
                let id = "demo" + file.name.split(separator: ".").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
                let mediaType = InferenceRoutes.mediaType(file.contentType)
                // The recording's truth is a JSON object; the page, script, style sheet and .pose file are text or bytes.
                let schema: JSONValue = mediaType == "application/json" ? .object([("type", .string("object"))])
                    : mediaType == "application/x-pose" ? .object([("type", .string("string")), ("format", .string("binary"))])
                    : .object([("type", .string("string"))])
                table.append(ServiceRoute("GET", path, access: .open, OpenAPIOperation(
                    id: id, summary: path == "/demo" ? "The browser demo page (live recognition of a recording)"
                        : "A file of the demo page (\(file.name))", responses: [
                        ("200", .object([("description", .string(file.name)),
                                         ("content", .object([(mediaType, .object([("schema", schema)]))]))])),
                        ("304", .object([("description", .string("Not modified (If-None-Match matched the ETag)"))])),
                        ("404", OpenAPI.ref("responses/Error404")),
                    ])) { routes, request, _, respond in routes.demoFile(path, request, respond) })
            }
        }
        // Vertex AI's routes, where its environment sets them: the instances contract and a health check.
        if let route = configuration.vertexPredictRoute {
            table.append(ServiceRoute("POST", route, access: .key, OpenAPIOperation(
                id: "vertexPredict", summary: "Vertex AI's prediction route (AIP_PREDICT_ROUTE): instances in, predictions out",
                requestBody: OpenAPI.ref("requestBodies/Instances"),
                responses: [("200", OpenAPI.ref("responses/Predictions"))] + prediction),
                headCheck: jsonContentType) { routes, request, _, respond in routes.instances(request, respond) })
        }
        if let route = configuration.vertexHealthRoute {
            table.append(ServiceRoute("GET", route, access: .open, OpenAPIOperation(
                id: "vertexHealth", summary: "Vertex AI's health route (AIP_HEALTH_ROUTE): 200 once ready", responses: [
                    ("200", OpenAPI.json("Ready", schema: "Status")), ("503", OpenAPI.ref("responses/Error503")),
                ])) { routes, _, _, respond in routes.vertexHealth(respond) })
        }
        return table
    }
}
