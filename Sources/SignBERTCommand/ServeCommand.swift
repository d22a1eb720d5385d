import ArgumentParser
import Dispatch
import Foundation
import HTTPServer
import InferenceService
import Logging
import SignBERTRuntime

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the model over HTTP/1.1 and HTTP/2 (h2c): POST /predict, GET / /health /ready /metrics.",
        discussion: """
        Every option can also come from the environment (the flag wins): PORT or SIGNBERT_PORT, SIGNBERT_HOST,
        SIGNBERT_MODEL (a model directory), SIGNBERT_CHECKPOINT, SIGNBERT_CONFIG, SIGNBERT_LABELS,
        SIGNBERT_MAX_BATCH_SIZE, SIGNBERT_MAX_CLIPS_PER_REQUEST, SIGNBERT_MAX_QUEUE_DELAY_MS, SIGNBERT_FIXED_QUEUE_DELAY, SIGNBERT_MAX_QUEUE, SIGNBERT_REQUEST_TIMEOUT,
        SIGNBERT_DRAIN_TIMEOUT, SIGNBERT_PREPROCESSING, SIGNBERT_THREADS, SIGNBERT_LOG_LEVEL, SIGNBERT_MODEL_NAME, SIGNBERT_MAX_BODY_BYTES,
        SIGNBERT_MAX_CONNECTIONS, SIGNBERT_MAX_BUFFERED_BODY_BYTES, SIGNBERT_MAX_FRAMES, SIGNBERT_API_KEY, SIGNBERT_API_KEY_FILE, SIGNBERT_PROTECT_METRICS,
        SIGNBERT_CORS_ORIGINS (comma-separated).
        Platforms: Vertex AI's AIP_HTTP_PORT (after SIGNBERT_PORT, before PORT), AIP_PREDICT_ROUTE and AIP_HEALTH_ROUTE
        (served in addition to the fixed routes); SageMaker's GET /ping and POST /invocations are always served.
        The model, when no flag, SIGNBERT_MODEL or SIGNBERT_CHECKPOINT names one: Vertex AI's AIP_STORAGE_URI (a local
        path or file:// URI; a gs:// or s3:// URI must be mounted), else SageMaker's /opt/ml/model when it is not empty
        (a model directory, or a training run's checkpoint_best.pth or single checkpoint), else the bundled demo model.
        A bare `serve` argument (SageMaker runs `IMAGE serve`) is accepted.
        """)

    @OptionGroup var modelOptions: ModelOptions

    @OptionGroup var repositoryOptions: RepositoryOptions

    /// SageMaker starts an image as `docker run IMAGE serve`; behind the image's entrypoint (`signbert serve`) that
    /// arrives here as a word `serve`, which is accepted and means nothing more.
    @Argument(help: .hidden)
    var platformWords: [String] = []

    @Option(name: .long, help: "Address to listen on (default 0.0.0.0).")
    var host: String?

    @Option(name: .long, help: "Port to listen on (default 8080).")
    var port: Int?

    @Option(name: .customLong("grpc-port"), help: "Also serve gRPC (inference.GRPCInferenceService) on this port, as Triton does on 8001; the main port takes gRPC too (default: none).")
    var grpcPort: Int?

    @Option(name: .long, help: "Most clips computed together (default 32, fewer for a heavier model: see README).")
    var maxBatchSize: Int?

    @Option(name: .long, help: "Most clips in one request, computed over several batches when more than a batch (default 256).")
    var maxClipsPerRequest: Int?

    @Option(name: .customLong("max-queue-delay-ms"), help: "How long the first queued clip waits for others (default 2).")
    var maxQueueDelayMs: Double?

    @Flag(name: .long, help: "Always wait the whole queue delay for other requests, even when none is under way.")
    var fixedQueueDelay = false

    @Option(name: .customLong("max-queue"), help: "Most clips waiting; past it requests get 503 (default 256, fewer for a heavier model).")
    var maxQueue: Int?

    @Option(name: .long, help: "Seconds a request may wait before 504 (default 30).")
    var requestTimeout: Double?

    @Option(name: .long, help: "Seconds a graceful drain may take on SIGTERM (default 30).")
    var drainTimeout: Double?

    @Option(name: .long, help: "OpenBLAS threads (default: the cores this process may use, honouring a cgroup CPU quota).")
    var threads: Int?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical (default info).")
    var logLevel: String?

    @Option(name: .long, help: "The model's name in GET / and in the /v2/models/{name} and /v1/models/{name} routes (default signbert).")
    var modelName: String?

    @Option(name: .long, help: "Longest clip accepted, in frames, before it is brought to the frames the model was trained on (default 10000).")
    var maxFrames: Int?

    @Option(name: .long, help: "Largest request body in bytes (default 33554432).")
    var maxBodyBytes: Int?

    @Option(name: .long, help: "Most open connections (default 1024, less under a small memory limit).")
    var maxConnections: Int?

    @Option(name: .long, help: "Request bodies held at once over all connections, in bytes (default 1 GiB, or a quarter of a memory limit).")
    var maxBufferedBodyBytes: Int?

    @Option(name: .long, help: "Require Authorization: Bearer <key> on the prediction routes (prefer --api-key-file or SIGNBERT_API_KEY: flags show in ps).")
    var apiKey: String?

    @Option(name: .long, help: "A file of API keys, one per line (# comments allowed).")
    var apiKeyFile: String?

    @Flag(name: .long, help: "With API keys, GET /metrics needs a key too.")
    var protectMetrics = false

    @Option(name: .long, help: "Without API keys, who may load and unload models (the repository's load and unload calls, REST and gRPC): loopback (callers on this host) or any (default: loopback). With API keys, the key decides.")
    var modelControl: String?

    @Option(name: .customLong("cors-origin"), help: ArgumentHelp(
        "An origin whose web pages may call the API (CORS), e.g. https://app.example.com, or * for any; repeatable (default: none).",
        valueName: "origin"))
    var corsOrigins: [String] = []

    @Flag(name: .long, inversion: .prefixedNo, help: "Serve the browser demo page at /demo (default: only with the bundled demo model).")
    var demo: Bool?

    @Option(name: .long, help: "Most live streams (WebSocket /stream) open at once; the next is closed with 1013 (default 64).")
    var maxStreams: Int?

    @Option(name: .long, help: "Seconds a live stream may go without a message from its client before it is closed (default 60).")
    var streamIdleTimeout: Double?

    @Flag(name: .customLong("print-openapi"), help: "Print the OpenAPI document this configuration serves at /openapi.json, and exit.")
    var printOpenAPI = false

    func validate() throws {
        if let word = platformWords.first(where: { $0 != "serve" }) ?? (platformWords.count > 1 ? "serve" : nil) {
            throw ValidationError("unexpected argument '\(word)': serve takes only flags (and a single bare 'serve', as SageMaker passes it)")
        }
        for (name, value) in [("--max-batch-size", maxBatchSize), ("--max-clips-per-request", maxClipsPerRequest), ("--max-queue", maxQueue), ("--threads", threads),
                              ("--max-body-bytes", maxBodyBytes), ("--max-connections", maxConnections),
                              ("--max-frames", maxFrames), ("--max-buffered-body-bytes", maxBufferedBodyBytes),
                              ("--max-streams", maxStreams)] {
            if let value, value < 1 { throw ValidationError("\(name) must be at least 1") }
        }
        if repositoryOptions.directory != nil {
            let single = [("--model", modelOptions.model), ("--checkpoint", modelOptions.checkpoint), ("--config", modelOptions.config),
                          ("--labels", modelOptions.labels), ("--model-name", modelName)].first { $0.1 != nil }
            if let (flag, _) = single {
                throw ValidationError("\(flag) names a single model; with --model-repository each model is a folder of the repository, named by it")
            }
        } else if repositoryOptions.defaultModel != nil || repositoryOptions.pollSeconds != nil {
            throw ValidationError("--default-model and --repository-poll go with --model-repository")
        }
        if let poll = repositoryOptions.pollSeconds, !(poll > 0) { throw ValidationError("--repository-poll must be a positive number of seconds") }
        if let port, !(0...65535).contains(port) { throw ValidationError("--port must be in 0...65535") }
        if let grpcPort, !(0...65535).contains(grpcPort) { throw ValidationError("--grpc-port must be in 0...65535") }
        if let logLevel, Logger.Level(rawValue: logLevel.lowercased()) == nil {
            throw ValidationError("--log-level \(logLevel) is not one of trace, debug, info, notice, warning, error, critical")
        }
        do { _ = try CORSOrigins.parse(corsOrigins) } catch { throw ValidationError("--cors-origin: \(error)") }
    }

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        var settings = try reportingErrors { try ServeSettings(command: self, environment: environment) }
        let logLevel = settings.logLevel
        LoggingSystem.bootstrap { label in
            var handler = JSONLogHandler(label: label)
            handler.logLevel = logLevel
            return handler
        }
        let logger = Logger(label: "signbert")
        let started = ContinuousClock.now
        let server: InferenceServer, loaded: LoadedModel
        if let directory = repositoryOptions.directory(environment: environment) {
            let preprocessing = try? skeletonCentre(modelOptions.preprocessing ?? environment["SIGNBERT_PREPROCESSING"].flatMap { $0.isEmpty ? nil : $0 })
            let start = try reportingErrors { try RepositoryStart.load(directory, settings: settings, preprocessing: preprocessing, logger: logger) }
            if let name = repositoryOptions.defaultModel, !start.models.contains(where: { $0.name == name }) {
                try reportingErrors { throw ValidationError("--default-model \(name) is not a model of the repository \(directory) that loads (it has \(Set(start.models.map(\.name)).sorted().joined(separator: ", ")))") }
            }
            let first = start.models.first { $0.name == repositoryOptions.defaultModel } ?? start.models[0]
            loaded = first.loaded
            // The connection and body limits from the largest clip of any model.
            let largest = start.models.max { $0.loaded.config.numFrames * $0.loaded.config.inputFeatures
                < $1.loaded.config.numFrames * $1.loaded.config.inputFeatures }?.loaded.config ?? loaded.config
            settings.applyModelCost(loaded.config)
            settings.applyMemoryBudget(largest)
            if printOpenAPI {
                let versions = Set(start.models.map { String($0.version) }).sorted { (Int($0) ?? 0) < (Int($1) ?? 0) }
                let names = [first.name] + start.models.map(\.name).reduce(into: [String]()) { if !$0.contains($1) && $1 != first.name { $0.append($1) } }
                FileHandle.standardOutput.write(Data(InferenceServer.openAPIDocument(loaded: loaded, configuration: first.configuration,
                                                                                     models: names, versions: versions)))
                return
            }
            let frozen = settings
            let source = ModelRepositorySource(directory: URL(fileURLWithPath: directory), configure: { frozen.configuration(for: $0) },
                                               load: { modelSource in
                var modelSource = modelSource
                modelSource.preprocessing = preprocessing
                return try ModelLoader.load(modelSource)
            })
            server = InferenceServer(models: start.models, repository: source, defaultModel: repositoryOptions.defaultModel,
                                     configuration: settings.service, http: settings.http, logger: logger)
            for refused in start.refused { server.noteRefused(name: refused.name, version: refused.version, reason: refused.reason) }
        } else {
            loaded = try reportingErrors { try ModelLoader.load(modelOptions.source(environment: environment, platforms: true)) }
            if let warning = ModelDescription(loaded).assumptionWarning { logger.warning("assumed \(warning)") }
            for warning in loaded.warnings { logger.warning("\(warning)") }
            settings.applyModelCost(loaded.config)
            settings.applyMemoryBudget(loaded.config)
            if printOpenAPI {
                FileHandle.standardOutput.write(Data(InferenceServer.openAPIDocument(loaded: loaded, configuration: settings.service)))
                return
            }
            server = InferenceServer(loaded: loaded, configuration: settings.service, http: settings.http, logger: logger)
        }
        try reportingErrors { try server.start() }
        let config = loaded.config
        logger.info("started", metadata: [
            "version": "\(InferenceServer.version)",
            "listen": "\(settings.http.host):\(server.port)",
            "grpc_listen": "\(server.grpcPort.map { "\(settings.http.host):\($0)" } ?? "main port only")",
            "model": "\(loaded.checkpointPath)",
            "architecture": "\(config.variant.name)\(config.variant.v2Flags.map { " " + $0.summary } ?? "") depth=\(config.depth) dim=\(config.embedDim) heads=\(config.numHeads) frames=\(config.numFrames) joints=\(config.numJoints)x\(config.numCoords) classes=\(config.numClasses)",
            "clip_frames": .stringConvertible(loaded.preparation.frames),
            "clip_frames_source": "\(loaded.preparation.framesSource)",
            "preprocessing": "\(loaded.preparation.centre.rawValue) (commit \(loaded.preparation.centre.commit): \(loaded.preparation.centreSource))",
            "max_clips_per_request": .stringConvertible(settings.service.maxClipsPerRequest),
            "gflop_per_clip": "\(String(format: "%.3f", config.flopsPerClip / 1e9))",
            "blas_threads": .stringConvertible(settings.service.computeThreads),
            "blas_core": "\(BLASThreads.coreName)",
            "kernels": "\(KernelPath.current)",
            "gemm": "\(LinearGEMM.current.rawValue)",
            "max_batch_size": .stringConvertible(settings.service.maxBatchSize),
            "api_key": "\(settings.service.apiKeys.isEmpty ? "off" : settings.service.protectMetrics ? "required (predictions, metrics)" : "required (predictions)")",
            "model_control": "\(settings.service.apiKeys.isEmpty ? settings.service.modelControl.rawValue : "api key")",
            "max_queue": .stringConvertible(settings.service.maxQueuedClips),
            "max_connections": .stringConvertible(settings.http.maxConnections),
            "max_body_bytes": .stringConvertible(settings.http.maxBodyBytes),
            "max_buffered_body_bytes": .stringConvertible(settings.http.maxBufferedBodyBytes),
            "memory_limit": "\(settings.budget?.memoryLimit.map(String.init) ?? "none")",
            "startup_ms": .stringConvertible((started.duration(to: .now) / .milliseconds(1)).rounded()),
        ])
        if repositoryOptions.directory(environment: environment) != nil {
            for model in server.servedModels {
                logger.info("model served", metadata: ["model": "\(model.name)", "version": "\(model.version)",
                                                       "memory_bytes": "\(model.memoryBytes)"])
            }
        }
        if KernelPath.fellBack {
            logger.warning("element-wise kernels fell back", metadata: [
                "kernels": "\(KernelPath.current)", "supported": "\(KernelPath.supported.map(\.description))",
                "SIGNBERT_KERNELS": "\(ProcessInfo.processInfo.environment["SIGNBERT_KERNELS"] ?? "unset")"])
        }
        if let wanted = ProcessInfo.processInfo.environment["SIGNBERT_GEMM"], LinearGEMM(rawValue: wanted) == nil {
            logger.warning("SIGNBERT_GEMM is not automatic, packed or openblas: ignored", metadata: [
                "SIGNBERT_GEMM": "\(wanted)", "gemm": "\(LinearGEMM.current.rawValue)"])
        }
        // SIGTERM (orchestrators) and SIGINT (Ctrl-C) start a graceful drain; a second one ends at once.
        let signalQueue = DispatchQueue(label: "signbert.signals")
        var sources: [any DispatchSourceSignal] = []
        for signalNumber in [SIGTERM, SIGINT] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: signalQueue)
            source.setEventHandler {
                if server.state == .draining || server.state == .stopped {
                    logger.warning("second signal during drain; exiting now")
                    Foundation.exit(1)
                }
                logger.info("signal received; draining", metadata: ["signal": "\(signalNumber == SIGTERM ? "SIGTERM" : "SIGINT")"])
                server.drain { clean in Foundation.exit(clean ? 0 : 1) }
            }
            source.resume()
            sources.append(source)
        }
        // SIGHUP (and the poll, when set) brings the repository's new or removed models and versions in.
        var timers: [any DispatchSourceTimer] = []
        if repositoryOptions.directory(environment: environment) != nil {
            let reloads = DispatchQueue(label: "signbert.repository")
            signal(SIGHUP, SIG_IGN)
            let hangup = DispatchSource.makeSignalSource(signal: SIGHUP, queue: reloads)
            hangup.setEventHandler {
                logger.info("SIGHUP received; polling the model repository")
                server.schedulePollRepository()
            }
            hangup.resume()
            sources.append(hangup)
            if let seconds = repositoryOptions.pollSeconds {
                let timer = DispatchSource.makeTimerSource(queue: reloads)
                timer.schedule(deadline: .now() + seconds, repeating: seconds)
                timer.setEventHandler { server.schedulePollRepository() }
                timer.resume()
                timers.append(timer)
            }
        }
        withExtendedLifetime((sources, timers)) { dispatchMain() }
    }
}

/// The flags resolved against the environment and the defaults.
struct ServeSettings {
    var service = ServiceConfiguration()
    var http = HTTPServerConfiguration()
    var logLevel = Logger.Level.info
    /// Whether the batch size was given (flag or environment); if not, the model's cost sets it.
    var explicitBatchSize = false
    /// The memory-holding limits given by a flag or the environment; the others come from the model's cost and
    /// `ResourceBudget`.
    var explicitBodyBytes: Int?
    var explicitConnections: Int?
    var explicitBodyBudget: Int?
    var explicitQueue: Int?
    var explicitClipsPerRequest: Int?
    var budget: ResourceBudget?

    init(command c: ServeCommand, environment env: [String: String]) throws {
        func integer(_ flag: Int?, _ names: String...) throws -> Int? {
            if let flag { return flag }
            for name in names {
                if let text = env[name], !text.isEmpty {
                    guard let value = Int(text), value >= 0 else { throw ValidationError("\(name)=\(text) is not a whole number") }
                    return value
                }
            }
            return nil
        }
        func number(_ flag: Double?, _ name: String) throws -> Double? {
            if let flag { return flag }
            guard let text = env[name], !text.isEmpty else { return nil }
            guard let value = Double(text), value >= 0 else { throw ValidationError("\(name)=\(text) is not a number") }
            return value
        }
        func route(_ value: String?, _ name: String) throws -> String? {
            guard let value, !value.isEmpty else { return nil }
            guard value.hasPrefix("/"), !value.contains("?"), !value.contains(" ") else {
                throw ValidationError("\(name)=\(value) is not a path starting with /")
            }
            return value
        }
        http.host = c.host ?? env["SIGNBERT_HOST"].flatMap { $0.isEmpty ? nil : $0 } ?? "0.0.0.0"
        http.port = try integer(c.port, "SIGNBERT_PORT", "AIP_HTTP_PORT", "PORT") ?? 8080
        guard (0...65535).contains(http.port) else { throw ValidationError("the port \(http.port) is not in 0...65535") }
        service.grpcPort = try integer(c.grpcPort, "SIGNBERT_GRPC_PORT")
        if let grpcPort = service.grpcPort, grpcPort > 65535 { throw ValidationError("the gRPC port \(grpcPort) is not in 0...65535") }
        explicitBodyBytes = try integer(c.maxBodyBytes, "SIGNBERT_MAX_BODY_BYTES")
        explicitConnections = try integer(c.maxConnections, "SIGNBERT_MAX_CONNECTIONS")
        explicitBodyBudget = try integer(c.maxBufferedBodyBytes, "SIGNBERT_MAX_BUFFERED_BODY_BYTES")
        let batch = try integer(c.maxBatchSize, "SIGNBERT_MAX_BATCH_SIZE")
        explicitBatchSize = batch != nil
        service.maxBatchSize = max(1, batch ?? ServingLimits.v1Defaults.maxBatchSize)
        explicitClipsPerRequest = try integer(c.maxClipsPerRequest, "SIGNBERT_MAX_CLIPS_PER_REQUEST").map { max(1, $0) }
        service.maxClipsPerRequest = explicitClipsPerRequest ?? max(service.maxBatchSize, 256)
        if let delay = try number(c.maxQueueDelayMs, "SIGNBERT_MAX_QUEUE_DELAY_MS") {
            service.maxQueueDelay = .microseconds(Int64(delay * 1000))
        }
        service.fixedQueueDelay = c.fixedQueueDelay || ["1", "true", "yes"].contains(env["SIGNBERT_FIXED_QUEUE_DELAY"]?.lowercased() ?? "")
        explicitQueue = try integer(c.maxQueue, "SIGNBERT_MAX_QUEUE")
        service.maxQueuedClips = max(service.maxBatchSize, explicitQueue ?? ServingLimits.v1Defaults.maxQueuedClips)
        if let timeout = try number(c.requestTimeout, "SIGNBERT_REQUEST_TIMEOUT") {
            service.requestTimeout = .milliseconds(Int64(timeout * 1000))
        }
        if let timeout = try number(c.drainTimeout, "SIGNBERT_DRAIN_TIMEOUT") {
            service.drainTimeout = .milliseconds(Int64(timeout * 1000))
        }
        service.computeThreads = max(1, try integer(c.threads, "SIGNBERT_THREADS") ?? BLASThreads.availableCores())
        if let name = c.modelName ?? env["SIGNBERT_MODEL_NAME"], !name.isEmpty {
            // The name is a path segment of the V1/V2 routes.
            guard name.utf8.count <= 128, name.unicodeScalars.allSatisfy({ $0.properties.isAlphabetic || "0123456789-_.".unicodeScalars.contains($0) }) else {
                throw ValidationError("the model name \"\(name)\" must be at most 128 letters, digits, '-', '_' or '.'")
            }
            service.modelName = name
        }
        if let frames = try integer(c.maxFrames, "SIGNBERT_MAX_FRAMES") { service.maxFrames = max(1, frames) }
        if let key = c.apiKey ?? env["SIGNBERT_API_KEY"], !key.isEmpty { service.apiKeys = APIKeys.parse(key) }
        if let path = c.apiKeyFile ?? env["SIGNBERT_API_KEY_FILE"], !path.isEmpty {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ValidationError("cannot read the API key file \(path)")
            }
            let keys = APIKeys.parse(text)
            guard !keys.isEmpty else { throw ValidationError("the API key file \(path) holds no key") }
            service.apiKeys += keys
        }
        if let streams = try integer(c.maxStreams, "SIGNBERT_MAX_STREAMS") { service.maxStreams = max(1, streams) }
        if let idle = try number(c.streamIdleTimeout, "SIGNBERT_STREAM_IDLE_TIMEOUT"), idle > 0 {
            http.webSocketIdleTimeout = .milliseconds(Int64(idle * 1000))
        }
        service.protectMetrics = c.protectMetrics || ["1", "true", "yes"].contains(env["SIGNBERT_PROTECT_METRICS"]?.lowercased() ?? "")
        if service.protectMetrics && service.apiKeys.isEmpty {
            throw ValidationError("--protect-metrics needs an API key (--api-key, --api-key-file, SIGNBERT_API_KEY)")
        }
        if let control = c.modelControl ?? env["SIGNBERT_MODEL_CONTROL"] {
            guard let access = ModelControlAccess(rawValue: control) else {
                throw ValidationError("\(c.modelControl == nil ? "SIGNBERT_MODEL_CONTROL" : "--model-control") is loopback or any, not \"\(control)\"")
            }
            service.modelControl = access
        }
        let origins = c.corsOrigins.isEmpty ? env["SIGNBERT_CORS_ORIGINS"].map { [$0] } ?? [] : c.corsOrigins
        do { service.corsOrigins = try CORSOrigins.parse(origins) } catch {
            throw ValidationError("\(c.corsOrigins.isEmpty ? "SIGNBERT_CORS_ORIGINS" : "--cors-origin"): \(error)")
        }
        service.demoPage = c.demo ?? (c.repositoryOptions.directory(environment: env) == nil && c.modelOptions.usesBundledModel(environment: env))
        service.vertexPredictRoute = try route(env["AIP_PREDICT_ROUTE"], "AIP_PREDICT_ROUTE")
        service.vertexHealthRoute = try route(env["AIP_HEALTH_ROUTE"], "AIP_HEALTH_ROUTE")
        let level = c.logLevel ?? env["SIGNBERT_LOG_LEVEL"] ?? "info"
        guard let parsed = Logger.Level(rawValue: level.lowercased()) else {
            throw ValidationError("log level \(level) is not one of trace, debug, info, notice, warning, error, critical")
        }
        logLevel = parsed
    }

    /// The limits not given explicitly, from the loaded model's cost per clip (ServingLimits).
    mutating func applyModelCost(_ config: SignBERTConfig) {
        let recommended = ServingLimits.recommended(for: config, cores: service.computeThreads)
        if !explicitBatchSize { service.maxBatchSize = recommended.maxBatchSize }
        service.maxQueuedClips = max(service.maxBatchSize, explicitQueue ?? recommended.maxQueuedClips)
    }

    /// The memory-holding limits that were not given, from the container's memory limit (`ResourceBudget`) and
    /// the loaded model's clip size; the queue takes the smaller of the cost's and the memory's bound.
    mutating func applyMemoryBudget(_ config: SignBERTConfig, memoryLimit: Int? = ResourceBudget.cgroupMemoryLimit()) {
        let derived = ResourceBudget(memoryLimit: memoryLimit, bytesPerQueuedClip: config.numFrames * config.inputFeatures * 4,
                                     maxBatchSize: service.maxBatchSize)
        budget = derived
        http.maxBodyBytes = explicitBodyBytes ?? derived.maxBodyBytes
        http.maxConnections = explicitConnections ?? derived.maxConnections
        http.maxBufferedBodyBytes = max(http.maxBodyBytes, explicitBodyBudget ?? derived.bodyBudgetBytes)
        service.maxQueuedClips = max(service.maxBatchSize, explicitQueue ?? min(service.maxQueuedClips, derived.maxQueuedClips))
        // A request's clips are held whole until answered: at most what the memory lets the queue hold.
        service.maxClipsPerRequest = explicitClipsPerRequest ?? max(service.maxBatchSize, min(256, derived.maxQueuedClips))
    }
}
