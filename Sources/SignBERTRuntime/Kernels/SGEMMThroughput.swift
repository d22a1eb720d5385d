import COpenBLAS
import Dispatch

/// The machine's raw `cblas_sgemm` throughput, the yardstick `signbert bench` holds the model against.
public enum SGEMMThroughput {
    /// GFLOP/s of a rows x inner x cols float32 GEMM (2·M·N·K FLOPs), median over repeated calls for about
    /// `seconds`. With `streams` > 1, that many independent 1-thread GEMMs run concurrently (the way
    /// ForwardEngine shards a batch) and the GFLOP/s are their sum; with 1 stream, one GEMM on `threads`.
    public static func measure(rows: Int, inner: Int, cols: Int, threads: Int, streams: Int, seconds: Double) -> Double {
        let streams = max(1, streams)
        let a = (0..<streams).map { _ in Buffer(rows * inner) }
        let b = (0..<streams).map { _ in Buffer(inner * cols) }
        let c = (0..<streams).map { _ in Buffer(rows * cols) }
        for buffer in a + b { for i in 0..<buffer.count { buffer.pointer[i] = Float(i % 17) * 0.01 - 0.08 } }
        // Each stream touches only its own buffers.
        nonisolated(unsafe) let operands = (a, b, c)
        @Sendable func gemm(_ s: Int) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(cols), Int32(inner),
                        1, operands.0[s].pointer, Int32(inner), operands.1[s].pointer, Int32(cols), 0,
                        operands.2[s].pointer, Int32(cols))
        }
        func once() -> Double {
            let start = ContinuousClock.now
            if streams == 1 {
                gemm(0)
            } else {
                DispatchQueue.concurrentPerform(iterations: streams) { gemm($0) }
            }
            let elapsed = start.duration(to: .now)
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        }
        BLASThreads.set(streams == 1 ? threads : 1)
        for _ in 0..<2 { _ = once() }
        var times: [Double] = []
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while times.count < 5 || ContinuousClock.now < deadline { times.append(once()) }
        times.sort()
        return 2 * Double(rows) * Double(inner) * Double(cols) * Double(streams) / times[times.count / 2] / 1e9
    }
}
