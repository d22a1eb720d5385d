import Foundation
import SignBERTRuntime
import Synchronization

/// One loaded version of one model: its weights, labels, shapes and preprocessing (`routes.loaded`), its own
/// batching settings, scheduler and inference core (`routes`), its labelled metrics, and the count of requests
/// using it (leases), which an unload waits out. Whatever else is kept per served version (e.g. a statistics
/// recorder) belongs here as one more property, made in `init`.
final class ServedModel: Sendable {
    let name: String
    let version: Int
    let routes: InferenceRoutes
    let metrics: ModelMetrics
    /// Weights (as float32) and batch buffers.
    let memoryBytes: Int
    private let leases = Mutex(0)

    init(name: String, version: Int, routes: InferenceRoutes, metrics: ModelMetrics) {
        self.name = name
        self.version = version
        self.routes = routes
        self.metrics = metrics
        memoryBytes = routes.loaded.model.weightBytes + routes.scheduler.bufferBytes
        metrics.memory.record(memoryBytes)
    }

    var scheduler: BatchScheduler { routes.scheduler }

    /// Taken by the repository when a request resolves to this version (under the repository's lock, so an
    /// unload that removed the version first sees every lease it must wait for).
    func lease() { leases.withLock { $0 += 1 } }
    func release() { leases.withLock { $0 -= 1 } }
    var activeLeases: Int { leases.withLock { $0 } }

    /// Waits until no request uses this version (or `timeout`), then finishes its queue and ends its compute
    /// thread. Called once the version is out of the repository, so no new request can find it.
    func drain(timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while activeLeases > 0 && ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.005) }
        let clean = activeLeases == 0
        scheduler.stop()
        return clean
    }
}
