import COpenBLAS
import Dispatch

/// The machine's raw `cblas_sgemm` throughput, the yardstick `signbert bench` holds the model against.
public enum SGEMMThroughput {
    /// One GEMM shape: [rows, inner] · [inner, cols].
    public struct Shape: Sendable {
        public let rows: Int, inner: Int, cols: Int
        public init(rows: Int, inner: Int, cols: Int) { (self.rows, self.inner, self.cols) = (rows, inner, cols) }
        var flops: Double { 2 * Double(rows) * Double(inner) * Double(cols) }
    }

    /// One transformer block's four Linear layers (qkv, proj, fc1, fc2) of `config` at `rows` token rows:
    /// 96 % of v1's arithmetic, most of v2's.
    public static func blockLinears(_ config: SignBERTConfig, rows: Int) -> [Shape] {
        let d = config.embedDim, h = config.hiddenDim
        return [Shape(rows: rows, inner: d, cols: 3 * d), Shape(rows: rows, inner: d, cols: d),
                Shape(rows: rows, inner: d, cols: h), Shape(rows: rows, inner: h, cols: d)]
    }

    /// GFLOP/s of a rows x inner x cols float32 GEMM (2·M·N·K FLOPs), median over repeated calls for about
    /// `seconds`. With `streams` > 1, that many independent 1-thread GEMMs run concurrently (the way
    /// ForwardEngine shards a batch) and the GFLOP/s are their sum; with 1 stream, one GEMM on `threads`.
    public static func measure(rows: Int, inner: Int, cols: Int, threads: Int, streams: Int, seconds: Double) -> Double {
        measure([Shape(rows: rows, inner: inner, cols: cols)], threads: threads, streams: streams, seconds: seconds)
    }

    /// The same for a sequence of GEMMs run back to back (e.g. `blockLinears`): their FLOPs over their time.
    public static func measure(_ shapes: [Shape], threads: Int, streams: Int, seconds: Double) -> Double {
        let streams = max(1, streams)
        let sized = { (f: (Shape) -> Int) in shapes.map(f).max() ?? 0 }
        let a = (0..<streams).map { _ in Buffer(sized { $0.rows * $0.inner }) }
        let b = (0..<streams).map { _ in Buffer(sized { $0.inner * $0.cols }) }
        let c = (0..<streams).map { _ in Buffer(sized { $0.rows * $0.cols }) }
        for buffer in a + b { for i in 0..<buffer.count { buffer.pointer[i] = Float(i % 17) * 0.01 - 0.08 } }
        // Each stream touches only its own buffers.
        nonisolated(unsafe) let operands = (a, b, c)
        @Sendable func gemms(_ s: Int) {
            for shape in shapes {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(shape.rows), Int32(shape.cols), Int32(shape.inner),
                            1, operands.0[s].pointer, Int32(shape.inner), operands.1[s].pointer, Int32(shape.cols), 0,
                            operands.2[s].pointer, Int32(shape.cols))
            }
        }
        func once() -> Double {
            let start = ContinuousClock.now
            if streams == 1 {
                gemms(0)
            } else {
                DispatchQueue.concurrentPerform(iterations: streams) { gemms($0) }
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
        return shapes.reduce(0) { $0 + $1.flops } * Double(streams) / times[times.count / 2] / 1e9
    }
}
