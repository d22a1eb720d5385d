import CKernels

/// The machine's peak multiply-add rate on the kernel path in use (`sb_fma_peak`: independent chains of vector
/// multiply-adds in registers, no memory), the ceiling beside the sgemm yardstick in `signbert bench --peak`:
/// no forward pass, GEMM or runtime on this path can run faster.
public enum MultiplyAddPeak {
    /// GFLOP/s of `threads` lanes of a thread team running the chains at once, the best of repeated rounds of
    /// about 20 ms for about `seconds` (the best: the machine's ceiling, not its typical state).
    public static func measure(threads: Int, seconds: Double) -> Double {
        let lanes = max(1, threads)
        let team = lanes > 1 ? ThreadTeam(lanes: lanes) : nil
        func round(_ iterations: Int) -> (gflops: Double, seconds: Double) {
            let start = ContinuousClock.now
            var flops = 0.0
            if let team {
                let done = UnsafeMutablePointer<Double>.allocate(capacity: lanes)
                defer { done.deallocate() }
                team.run { lane in done[lane.index] = sb_fma_peak(iterations) }
                flops = (0..<lanes).reduce(0) { $0 + done[$1] }
            } else {
                flops = sb_fma_peak(iterations)
            }
            let elapsed = start.duration(to: .now)
            let wall = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            return (flops / wall / 1e9, wall)
        }
        // Rounds of about 20 ms whatever the path's speed, so a lane's late start is a small part of one.
        let probe = round(200_000)
        let iterations = max(200_000, Int(200_000 * 0.02 / max(probe.seconds, 1e-6)))
        var best = 0.0, rounds = 0
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while rounds < 5 || ContinuousClock.now < deadline {
            best = max(best, round(iterations).gflops)
            rounds += 1
        }
        return best
    }
}
