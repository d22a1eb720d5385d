import SignBERTRuntime
import Synchronization
import WireFormats

/// The inference service's knobs (the HTTP server's own limits live in `HTTPServerConfiguration`).
public struct ServiceConfiguration: Sendable {
    /// Clips computed together at most.
    public var maxBatchSize: Int = 32
    /// Clips one request may carry (more: 400); a request of more than `maxBatchSize` clips is computed over
    /// several batches and answered once.
    public var maxClipsPerRequest: Int = 256
    /// How long the first queued clip waits for company before its batch runs.
    public var maxQueueDelay: Duration = .milliseconds(2)
    /// Wait the whole `maxQueueDelay` for company even when no other request is under way (Triton's
    /// behaviour). By default the wait is skipped then, so a lone client never pays the delay.
    public var fixedQueueDelay: Bool = false
    /// Clips waiting at most; past it requests get 503 with Retry-After.
    public var maxQueuedClips: Int = 256
    /// A request still queued after this long gets 504.
    public var requestTimeout: Duration = .seconds(30)
    /// How long a drain may take before the process exits anyway.
    public var drainTimeout: Duration = .seconds(30)
    /// OpenBLAS threads of the one compute worker (perf-notes: one batching worker owning every core).
    public var computeThreads: Int = 1
    /// The model's name in descriptions and in the Open Inference Protocol (KServe V2) and KServe V1 paths.
    public var modelName: String = "signbert"
    /// The longest clip accepted, in frames, before it is brought to the model's D frames (400 past it).
    public var maxFrames: Int = PredictionRequest.defaultMaxFrames
    /// Vertex AI's routes (`AIP_PREDICT_ROUTE`, `AIP_HEALTH_ROUTE`), served in addition to the fixed ones.
    public var vertexPredictRoute: String?
    public var vertexHealthRoute: String?
    /// Bearer tokens accepted on the prediction routes (every POST); empty: no authentication.
    public var apiKeys: [String] = []
    /// Whether `GET /metrics` needs an API key too (when keys are set).
    public var protectMetrics: Bool = false
    /// Who may load and unload models when no API key is set: loopback callers only, or anyone.
    public var modelControl: ModelControlAccess = .loopback
    /// Origins whose web pages may call the API (CORS): exact `scheme://host[:port]` values or `*`; empty: none.
    public var corsOrigins: [String] = []
    /// Serve the browser demo page at `/demo` (its files: `Resources/demo`).
    public var demoPage: Bool = false
    /// Live streams (WebSocket, docs/STREAMING.md) open at once; the next is closed with 1013.
    public var maxStreams: Int = 64
    /// The sign-event settings a stream gets when its start message leaves them out.
    var streamEvents = SignEventSettings()
    /// A second port for gRPC (Triton's is 8001), served like the main one (which takes gRPC too, by content type).
    public var grpcPort: Int?

    public init() {}
}

/// Where the service is in its life; `/ready` answers 200 only in `.ready`.
public enum ServiceState: String, Sendable {
    case starting, ready, draining, stopped
}

/// The service's state, shared by the routes (which read it) and the server (which moves it on).
final class Lifecycle: Sendable {
    private let state = Mutex(ServiceState.starting)

    var current: ServiceState { state.withLock { $0 } }

    /// Moves from one of `from` to `to`; false (and no change) from any other state.
    func transition(from: Set<ServiceState>, to: ServiceState) -> Bool {
        state.withLock { current in
            guard from.contains(current) else { return false }
            current = to
            return true
        }
    }
}
