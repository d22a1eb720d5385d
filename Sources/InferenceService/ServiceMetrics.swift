import Metrics
import Prometheus
import WireFormats

/// The service's metrics, in their own Prometheus registry (so tests and several servers in one
/// process never share counters), exposed at `GET /metrics` in the Prometheus text format: every family
/// with `# HELP` and `# TYPE` (what `promtool check metrics` asks), build and model info gauges, and the
/// process's CPU, memory and file descriptors read from /proc at each scrape.
public final class ServiceMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let factory: DescribedMetricsFactory
    private let modelBatchBuckets: [Double]
    let queueWait: Metrics.Timer
    let compute: Metrics.Timer
    let batchSize: Metrics.Recorder
    let queueDepth: Metrics.Meter
    let inFlight: Metrics.Meter
    let clips: Metrics.Counter
    /// Clips dropped from the queue because their client went away before they ran.
    let cancelledClips: Metrics.Counter
    let streamsOpen: Metrics.Meter
    let streamFrames: Metrics.Counter
    let streamWindowsComputed: Metrics.Counter
    let streamWindowsSkipped: Metrics.Counter
    let streamEvents: Metrics.Counter

    /// The help text of every family the service registers (a family without one fails `promtool check metrics`).
    static let help: [String: String] = [
        "signbert_requests_total": "HTTP responses by route pattern, status code and protocol.",
        "signbert_request_duration_seconds": "Time from a request's first byte to its response, by route pattern.",
        "signbert_queue_wait_seconds": "Time clips waited in the batching queue before their batch ran.",
        "signbert_compute_seconds": "Forward-pass time per batch.",
        "signbert_batch_size": "Clips per computed batch.",
        "signbert_queue_clips": "Clips waiting in the batching queue.",
        "signbert_requests_in_flight": "Prediction requests decoded and not yet answered.",
        "signbert_clips_total": "Clips computed.",
        "signbert_cancelled_clips_total": "Clips dropped from the queue unrun because their client left.",
        "signbert_streams_open": "Live streams (WebSocket) open.",
        "signbert_stream_frames_total": "Frames received on live streams.",
        "signbert_stream_windows_total": "Live-stream windows, by outcome: computed, or skipped (a newer window replaced it, or the server was busy).",
        "signbert_stream_events_total": "Sign events reported on live streams.",
        "signbert_model_requests_total": "Responses of the routes that name or use a model, by model, version and status code.",
        "signbert_model_request_duration_seconds": "Time from a model request's first byte to its response, by model and version.",
        "signbert_model_queue_wait_seconds": "Time clips waited in their model's batching queue, by model and version.",
        "signbert_model_compute_seconds": "Forward-pass time per batch, by model and version.",
        "signbert_model_batch_size": "Clips per computed batch, by model and version.",
        "signbert_model_queue_clips": "Clips waiting in a model's batching queue, by model and version.",
        "signbert_model_clips_total": "Clips computed, by model and version.",
        "signbert_model_memory_bytes": "The bytes a loaded model version holds (weights and batch buffers), by model and version.",
        "signbert_build_info": "The server's build (always 1; the labels carry the information).",
        "signbert_model_info": "The served model (always 1; the labels carry the information).",
    ]

    init(maxBatchSize: Int, build: [(String, String)] = [], model: [(String, String)] = []) {
        var sizes: [Double] = [1]
        while let last = sizes.last, last < Double(maxBatchSize) { sizes.append(min(last * 2, Double(maxBatchSize))) }
        let latency: [Duration] = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10].map {
            .nanoseconds(Int64($0 * 1e9))
        }
        let factory = DescribedMetricsFactory(registry: registry, help: Self.help, durationBuckets: latency,
                                              valueBuckets: ["signbert_batch_size": sizes, "signbert_model_batch_size": sizes])
        self.factory = factory
        modelBatchBuckets = sizes
        queueWait = Metrics.Timer(label: "signbert_queue_wait_seconds", dimensions: [], factory: factory)
        compute = Metrics.Timer(label: "signbert_compute_seconds", dimensions: [], factory: factory)
        batchSize = Metrics.Recorder(label: "signbert_batch_size", dimensions: [], aggregate: true, factory: factory)
        queueDepth = Metrics.Meter(label: "signbert_queue_clips", dimensions: [], factory: factory)
        inFlight = Metrics.Meter(label: "signbert_requests_in_flight", dimensions: [], factory: factory)
        clips = Metrics.Counter(label: "signbert_clips_total", dimensions: [], factory: factory)
        cancelledClips = Metrics.Counter(label: "signbert_cancelled_clips_total", dimensions: [], factory: factory)
        streamsOpen = Metrics.Meter(label: "signbert_streams_open", dimensions: [], factory: factory)
        streamFrames = Metrics.Counter(label: "signbert_stream_frames_total", dimensions: [], factory: factory)
        streamWindowsComputed = Metrics.Counter(label: "signbert_stream_windows_total", dimensions: [("outcome", "computed")],
                                                factory: factory)
        streamWindowsSkipped = Metrics.Counter(label: "signbert_stream_windows_total", dimensions: [("outcome", "skipped")],
                                               factory: factory)
        streamEvents = Metrics.Counter(label: "signbert_stream_events_total", dimensions: [], factory: factory)
        for (name, labels) in [("signbert_build_info", build), ("signbert_model_info", model)] where !labels.isEmpty {
            Metrics.Gauge(label: name, dimensions: labels, factory: factory).record(1)
        }
    }

    /// Counts a response by route, status and protocol ("HTTP/1.1", "HTTP/1.0" or "HTTP/2") and
    /// records its latency (every response, including the HTTP server's own errors).
    func recordResponse(route: String, status: Int, protocol: String, duration: Duration) {
        Metrics.Counter(label: "signbert_requests_total",
                        dimensions: [("route", route), ("status", String(status)), ("protocol", `protocol`)], factory: factory)
            .increment()
        Metrics.Timer(label: "signbert_request_duration_seconds", dimensions: [("route", route)], factory: factory)
            .recordNanoseconds(duration.nanoseconds)
    }

    /// The labelled series of one served model version (the families above are the server's totals).
    func model(name: String, version: Int) -> ModelMetrics {
        let labels = [("model", name), ("version", String(version))]
        return ModelMetrics(
            labels: labels, factory: factory,
            queueWait: Metrics.Timer(label: "signbert_model_queue_wait_seconds", dimensions: labels, factory: factory),
            compute: Metrics.Timer(label: "signbert_model_compute_seconds", dimensions: labels, factory: factory),
            batchSize: Metrics.Recorder(label: "signbert_model_batch_size", dimensions: labels, aggregate: true, factory: factory),
            queueDepth: Metrics.Meter(label: "signbert_model_queue_clips", dimensions: labels, factory: factory),
            clips: Metrics.Counter(label: "signbert_model_clips_total", dimensions: labels, factory: factory),
            memory: Metrics.Gauge(label: "signbert_model_memory_bytes", dimensions: labels, factory: factory))
    }

    func streamOpened() { streamsOpen.increment() }
    func streamClosed() { streamsOpen.decrement() }

    public func exposition() -> [UInt8] { registry.emitToBuffer() + ProcessMetrics.exposition() }
}

/// One served model version's series, labelled `model` and `version`.
struct ModelMetrics: Sendable {
    let labels: [(String, String)]
    let factory: DescribedMetricsFactory
    let queueWait: Metrics.Timer
    let compute: Metrics.Timer
    let batchSize: Metrics.Recorder
    let queueDepth: Metrics.Meter
    let clips: Metrics.Counter
    let memory: Metrics.Gauge

    /// A response of a route that resolved to this model version.
    func recordResponse(status: Int, duration: Duration) {
        Metrics.Counter(label: "signbert_model_requests_total", dimensions: labels + [("status", String(status))], factory: factory)
            .increment()
        Metrics.Timer(label: "signbert_model_request_duration_seconds", dimensions: labels, factory: factory)
            .recordNanoseconds(duration.nanoseconds)
    }
}

/// swift-metrics' API onto a Prometheus registry, with each family's help text and histogram buckets
/// (swift-prometheus's own factory registers every family without help).
struct DescribedMetricsFactory: MetricsFactory {
    let registry: PrometheusCollectorRegistry
    let help: [String: String]
    let durationBuckets: [Duration]
    let valueBuckets: [String: [Double]]

    private func descriptor(_ label: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: label, unitName: "", helpText: help[label] ?? label)
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard aggregate else { return registry.makeGauge(descriptor: descriptor(label), labels: dimensions) }
        return registry.makeValueHistogram(descriptor: descriptor(label), labels: dimensions,
                                           buckets: valueBuckets[label] ?? [1, 2, 4, 8, 16, 32, 64])
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(descriptor: descriptor(label), labels: dimensions)
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        registry.makeDurationHistogram(descriptor: descriptor(label), labels: dimensions, buckets: durationBuckets)
    }

    // The service's metrics live as long as the server; nothing is ever destroyed.
    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyMeter(_ handler: any MeterHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}
}

extension Duration {
    var nanoseconds: Int64 {
        components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }

    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
