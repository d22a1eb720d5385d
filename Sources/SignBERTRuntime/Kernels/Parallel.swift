import Dispatch

/// Runs `body` over `count` items split into at most `workers` contiguous chunks, concurrently.
/// The element-wise kernels use it so that LayerNorm, softmax and GELU use every core the GEMMs use;
/// small jobs (under `minimumPerWorker` items a chunk) stay on the calling thread, where a dispatch
/// would cost more than it saves.
func parallelChunks(_ count: Int, workers: Int, minimumPerWorker: Int = 1,
                    _ body: (_ range: Range<Int>, _ worker: Int) -> Void) {
    let chunks = max(1, min(workers, count / max(1, minimumPerWorker)))
    if chunks == 1 {
        body(0..<count, 0)
        return
    }
    // The chunks write disjoint ranges of buffers the caller owns, and concurrentPerform returns only
    // after every chunk has run: sharing `body` across its threads is safe though it is not @Sendable.
    nonisolated(unsafe) let work = body
    DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
        let start = count * chunk / chunks
        let end = count * (chunk + 1) / chunks
        work(start..<end, chunk)
    }
}
