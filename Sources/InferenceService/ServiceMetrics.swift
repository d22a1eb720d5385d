import Metrics
import Prometheus

/// The service's metrics, in their own Prometheus registry (so tests and several servers in one
/// process never share counters), exposed at `GET /metrics` in the Prometheus text format.
public final class ServiceMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    let queueWait: Metrics.Timer
    let compute: Metrics.Timer
    let batchSize: Metrics.Recorder
    let queueDepth: Metrics.Meter
    let inFlight: Metrics.Meter
    let clips: Metrics.Counter
    /// Clips dropped from the queue because their client went away before they ran.
    let cancelledClips: Metrics.Counter

    init(maxBatchSize: Int) {
        var factory = PrometheusMetricsFactory(registry: registry)
        let latency: [Duration] = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10].map {
            .nanoseconds(Int64($0 * 1e9))
        }
        factory.defaultDurationHistogramBuckets = latency
        var sizes: [Double] = [1]
        while let last = sizes.last, last < Double(maxBatchSize) { sizes.append(min(last * 2, Double(maxBatchSize))) }
        factory.valueHistogramBuckets["signbert_batch_size"] = sizes
        self.factory = factory
        queueWait = Metrics.Timer(label: "signbert_queue_wait_seconds", dimensions: [], factory: factory)
        compute = Metrics.Timer(label: "signbert_compute_seconds", dimensions: [], factory: factory)
        batchSize = Metrics.Recorder(label: "signbert_batch_size", dimensions: [], aggregate: true, factory: factory)
        queueDepth = Metrics.Meter(label: "signbert_queue_clips", dimensions: [], factory: factory)
        inFlight = Metrics.Meter(label: "signbert_requests_in_flight", dimensions: [], factory: factory)
        clips = Metrics.Counter(label: "signbert_clips_total", dimensions: [], factory: factory)
        cancelledClips = Metrics.Counter(label: "signbert_cancelled_clips_total", dimensions: [], factory: factory)
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

    public func exposition() -> [UInt8] { registry.emitToBuffer() }
}

extension Duration {
    var nanoseconds: Int64 {
        components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }

    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
