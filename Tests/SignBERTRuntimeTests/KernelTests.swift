import CKernels
import Foundation
@testable import SignBERTRuntime
import XCTest

/// The element-wise kernels against Foundation's libm and naive loops, on every kernel path this CPU
/// supports (baseline, AVX2+FMA, AVX-512).
final class KernelTests: XCTestCase {
    func testTheBestSupportedPathIsChosen() throws {
        try XCTSkipIf(ProcessInfo.processInfo.environment["SIGNBERT_KERNELS"] != nil, "SIGNBERT_KERNELS chooses the path")
        XCTAssertEqual(KernelPath.current, KernelPath.supported.last)
        XCTAssertFalse(KernelPath.fellBack)
        XCTAssertEqual(KernelPath.supported.first, .baseline)
        #if arch(x86_64)
        // The machines this project runs on have AVX2; a baseline-only result here means detection broke.
        XCTAssertTrue(KernelPath.avx2.isSupported, "no AVX2 detected")
        #endif
    }

    func testExpIsWithinFourUlpsAcrossTheSoftmaxRange() {
        let x = (0...200_000).map { -87 + Float($0) * (175.0 / 200_000) }
        forEachPath { path in
            let y = apply(sb_exp, to: x)
            var worst: Float = 0
            for (input, output) in zip(x, y) {
                let exact = Float(Foundation.exp(Double(input)))
                worst = max(worst, abs(output - exact) / exact)
            }
            XCTAssertLessThan(worst, 4 * Float.ulpOfOne, "\(path): worst relative error \(worst)")
            let extremes = apply(sb_exp, to: [-1000, 1000])
            XCTAssertEqual(extremes[0], 0, accuracy: 1e-37, "\(path)")
            XCTAssertTrue(extremes[1].isFinite, "\(path)")
        }
    }

    /// The vectorised erf against the scalar erff, densely (every ~1.6e-5) over the range where erf is not ±1.
    /// The bound: the rational form is within 1.5e-9 of erf; evaluated in float it is within 3.4e-7 (with fused
    /// multiply-adds) or 3.9e-7 (without: the baseline path), and erff itself is within 6e-8 (tools/fit_erf.py).
    func testErfIsWithin5e7OfErffOverADenseRange() {
        let x = (0...1_000_000).map { -8 + Float($0) * (16.0 / 1_000_000) }
        let exact = x.map { Foundation.erf($0) }
        forEachPath { path in
            let y = apply(sb_erf, to: x)
            var worst: Float = 0, at: Float = 0
            for i in x.indices where abs(y[i] - exact[i]) > worst {
                worst = abs(y[i] - exact[i])
                at = x[i]
            }
            XCTAssertLessThan(worst, 5e-7, "\(path): worst absolute error \(worst) at \(at)")
            XCTAssertEqual(apply(sb_erf, to: [0])[0], 0, "\(path)")
        }
    }

    /// fc1's bias and GELU on a column slice of a wider matrix: only the slice changes.
    func testBiasGELUMatchesTheErfDefinitionOnAColumnSlice() {
        let rows = 3, cols = 37, ld = 50, offset = 5  // 37: two full 16-wide vectors and a tail
        let values: [Float] = (0..<(rows * ld)).map { Float($0 % 401 - 200) / 20 }
        let bias: [Float] = (0..<cols).map { Float($0) / 40 - 0.4 }
        forEachPath { path in
            var x = values
            x.withUnsafeMutableBufferPointer { buffer in
                biasGELU(buffer.baseAddress! + offset, bias: bias, rows: rows, cols: cols, ld: ld)
            }
            for r in 0..<rows {
                for c in 0..<ld {
                    let i = r * ld + c
                    guard (offset..<offset + cols).contains(c) else {
                        XCTAssertEqual(x[i], values[i], "\(path): column \(c) outside the slice changed")
                        continue
                    }
                    let v = Double(values[i]) + Double(bias[c - offset])
                    let exact = 0.5 * v * (1 + Foundation.erf(v / 2.0.squareRoot()))
                    XCTAssertEqual(Double(x[i]), exact, accuracy: 2e-6, "\(path): gelu(\(v))")
                }
            }
        }
    }

    func testMaxAndShiftedExponentialSumHandleTails() {
        forEachPath { path in
            for count in [1, 15, 16, 17, 100] {
                var x = (0..<count).map { Float(($0 * 7) % 23) - 11 }
                XCTAssertEqual(sb_max(x, count), x.max(), "\(path), \(count)")
                let expected = x.map { exp(Double($0) - 3) }
                let total = sb_exp_shifted_sum(&x, count, 3)
                XCTAssertEqual(Double(total), expected.reduce(0, +), accuracy: 1e-5 * expected.reduce(0, +), "\(path)")
                for (value, exact) in zip(x, expected) { XCTAssertEqual(Double(value), exact, accuracy: 1e-6 * exact) }
            }
        }
    }

    func testLayerNormMatchesTwoPassDefinition() {
        for dim in [7, 40] {  // shorter than the 16 lanes, and two vectors plus a tail
            let x: [Float] = (0..<(2 * dim)).map { Float($0 * $0 % 11) + 1000 }  // large mean, small spread
            let weight: [Float] = (0..<dim).map { 1 + Float($0) / 10 }
            let bias: [Float] = (0..<dim).map { Float($0) / 100 }
            let pending: [Float] = (0..<dim).map { Float($0 % 3) - 1 }
            func expected(_ r: Int, _ j: Int, plus add: [Float]?) -> Double {
                let row = (0..<dim).map { Double(x[r * dim + $0]) + Double(add?[$0] ?? 0) }
                let mean = row.reduce(0, +) / Double(dim)
                let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(dim)
                return (row[j] - mean) / (variance + 1e-5).squareRoot() * Double(weight[j]) + Double(bias[j])
            }
            forEachPath { path in
                var out = [Float](repeating: 0, count: 2 * dim)
                layerNorm(&out, x, weight: weight, bias: bias, rows: 2, dim: dim)
                var inPlace = x
                inPlace.withUnsafeMutableBufferPointer { layerNorm($0.baseAddress!, $0.baseAddress!, weight: weight, bias: bias, rows: 2, dim: dim) }
                var stream = x, fused = [Float](repeating: 0, count: 2 * dim)
                addBiasLayerNorm(&fused, &stream, pendingBias: pending, weight: weight, bias: bias, rows: 2, dim: dim)
                for r in 0..<2 {
                    for j in 0..<dim {
                        XCTAssertEqual(Double(out[r * dim + j]), expected(r, j, plus: nil), accuracy: 1e-4, "\(path)")
                        XCTAssertEqual(inPlace[r * dim + j], out[r * dim + j], "\(path): in place")
                        XCTAssertEqual(Double(fused[r * dim + j]), expected(r, j, plus: pending), accuracy: 1e-4, "\(path)")
                        XCTAssertEqual(stream[r * dim + j], x[r * dim + j] + pending[j], "\(path): the stream keeps the bias")
                    }
                }
            }
        }
    }

    /// The paths compute the same function: they differ only by fused multiply-adds. The erf's rational form
    /// rounds 12 multiply-adds and a division, to within 4e-7 of erf with fused multiply-adds or without
    /// (tools/fit_erf.py), so two paths may differ by a few float steps of 6e-8 near ±1 (3.7e-7 seen).
    func testEveryPathAgreesWithTheBaseline() {
        var generator = SplitMix64(seed: 3)
        let values = (0..<4099).map { _ in Float(generator.next() % 20_000) / 1000 - 10 }
        let reference = withPath(.baseline) { apply(sb_erf, to: values) }
        forEachPath { path in
            for (a, b) in zip(apply(sb_erf, to: values), reference) { XCTAssertEqual(a, b, accuracy: 5e-7, "\(path)") }
        }
    }

    func testLinearMatchesNaiveProductWithPyTorchLayout() {
        // PyTorch weight [out=3, in=2], packed as the model packs it.
        let weight = WeightBuffer(packingLinear: [1, 2, 3, 4, 5, 6], inner: 2, outer: 3)
        let x: [Float] = [1, -1, 2, 0.5]  // 2 rows of 2
        let bias: [Float] = [0.5, -0.5, 1]
        var out = [Float](repeating: 7, count: 6)
        linear(&out, x, weight: weight.pointer, bias: bias, rows: 2, inDim: 2, outDim: 3)
        XCTAssertEqual(out, [-0.5, -1.5, 0, 3.5, 7.5, 14] as [Float])  // x·Wᵀ + b by hand
        linear(&out, x, weight: weight.pointer, bias: bias, rows: 2, inDim: 2, outDim: 3, accumulate: true)
        XCTAssertEqual(out, [-1, -3, 0, 7, 15, 28] as [Float])  // the same added again
    }

    /// The packed GEMM against a double-precision naive product, on every path, at shapes that cross each of its
    /// edges: row counts that leave a partial micro-kernel and a partial 96-row block, inner sizes past the
    /// 256-deep blocks, widths that end inside a 16-column panel, and column tiles of a wider output (as a lane
    /// of the split forward pass writes them): stored, stored with a bias, and accumulated. Columns outside the tile
    /// stay untouched.
    func testPackedGEMMMatchesNaiveProductAtEveryEdge() {
        var generator = SplitMix64(seed: 11)
        func random(_ n: Int) -> [Float] { (0..<n).map { _ in Float(generator.next() % 2_001) / 1_000 - 1 } }
        // Row blocks are 192 rows and k blocks 256: partial micro-panels, several row blocks with a short last one,
        // inner sizes past one k block; each once more without the per-thread scratch (its allocation failed).
        let shapes = [(rows: 1, inner: 3, outer: 5, scratch: true), (7, 16, 16, true), (13, 257, 40, true),
                      (64, 256, 768, true), (97, 600, 33, true), (200, 1024, 48, true), (391, 260, 17, true),
                      (13, 257, 40, false), (200, 300, 33, false)]
        for (rows, inner, outer, scratch) in shapes {
            sb_gemm_allow_scratch(scratch ? 1 : 0)
            defer { sb_gemm_allow_scratch(1) }
            let x = random(rows * inner), w = random(outer * inner), start = random(rows * outer), bias = random(outer)
            let packed = WeightBuffer(packingLinear: w, inner: inner, outer: outer)
            let tiles = outer > 16 ? [0..<16, 16..<outer, 0..<outer] : [0..<outer]
            for columns in tiles {
                for (accumulate, withBias) in [(false, false), (false, true), (true, false)] {
                    forEachPath { path in
                        var out = start
                        out.withUnsafeMutableBufferPointer { o in
                            guard let base = o.baseAddress else { return }
                            bias.withUnsafeBufferPointer { b in
                                packedMatmul(base, x, weight: packed.pointer, rows: rows, inDim: inner, outDim: outer,
                                             columns: columns, accumulate: accumulate,
                                             bias: withBias ? b.baseAddress.map { $0 + columns.lowerBound } : nil)
                            }
                        }
                        var worst = 0.0  // the error over the float sum's own rounding bound (1e-5 of Σ|terms|)
                        for r in 0..<rows {
                            for c in 0..<outer {
                                let i = r * outer + c
                                guard columns.contains(c) else {
                                    XCTAssertEqual(out[i], start[i], "\(path) \(rows)x\(inner)x\(outer) touched column \(c)")
                                    continue
                                }
                                var sum = accumulate ? Double(start[i]) : withBias ? Double(bias[c]) : 0
                                var magnitude = abs(sum)
                                for k in 0..<inner {
                                    let term = Double(x[r * inner + k]) * Double(w[c * inner + k])
                                    sum += term
                                    magnitude += abs(term)
                                }
                                worst = max(worst, abs(Double(out[i]) - sum) / (1e-5 * magnitude + 1e-7))
                            }
                        }
                        XCTAssertLessThan(worst, 1, "\(path) \(rows)x\(inner)x\(outer) columns \(columns) accumulate \(accumulate) bias \(withBias) scratch \(scratch)")
                    }
                }
            }
        }
    }

    /// A model keeps one layout of its Linear weights, the one its GEMM reads: under `automatic`, packed for
    /// v1's 64-token clips and transposed for OpenBLAS for v2's 1,729; `packed` and `openblas` force either; a
    /// model loaded earlier keeps its own. `bytes` (a served model's `memory_bytes`) counts that one layout.
    func testAModelKeepsTheWeightLayoutOfTheGEMMChosenAtLoad() throws {
        defer { LinearGEMM.use(.automatic) }
        func layers(_ w: SignBERTWeights) -> [LinearWeights] {
            [w.inputProj, w.headFC1, w.headFC2] + w.blocks.flatMap { [$0.qkv, $0.proj, $0.fc1, $0.fc2] }
        }
        let v1 = SignBERTConfig.defaults, v2 = SignBERTConfig.v2Defaults
        XCTAssertLessThanOrEqual(v1.maxTokens, LinearGEMM.packedTokenLimit)
        XCTAssertGreaterThan(v2.maxTokens, LinearGEMM.packedTokenLimit)
        for (gemm, config, packs) in [(LinearGEMM.automatic, v1, true), (.automatic, v2, false), (.packed, v2, true),
                                      (.openBLAS, v1, false), (.openBLAS, v2, false)] {
            LinearGEMM.use(gemm)
            let weights = try SignBERTWeights(stateDict: .random(config: config), config: config)
            let linears = layers(weights)
            XCTAssertTrue(linears.allSatisfy { $0.packed == packs }, "\(gemm) \(config.variant)")
            for layer in linears {
                let floats = packs ? (layer.outDim + 15) / 16 * 16 * layer.inDim : layer.outDim * layer.inDim
                XCTAssertEqual(layer.weight.count, floats, "\(gemm) \(config.variant) \(layer.outDim)x\(layer.inDim)")
            }
            let padding = linears.reduce(0) { $0 + $1.weight.count - $1.outDim * $1.inDim }
            XCTAssertEqual(padding > 0, packs, "a head of 100 classes pads its last panel when packed")
            // Every parameter once (v2 sums its two cls parameters into one at load), plus the panels' padding.
            let folded = config.variant.v2Flags?.useClsToken == true ? config.embedDim : 0
            XCTAssertEqual(weights.bytes, 4 * (config.parameterCount - folded + padding), "\(gemm) \(config.variant)")
        }
        // A model loaded before a change keeps its layout, so it keeps computing the same logits.
        LinearGEMM.use(.openBLAS)
        let before = try SignBERTWeights(stateDict: .random(config: v1), config: v1)
        LinearGEMM.use(.packed)
        XCTAssertTrue(layers(before).allSatisfy { !$0.packed })
    }

    /// Every lane runs each job once; a barrier separates the steps (each lane reads what all the others
    /// wrote before it); thousands of jobs in a row neither lose a lane nor hang; a team is torn down cleanly.
    func testThreadTeamRunsEveryLaneAndItsBarriersOrderTheSteps() {
        for lanes in [1, 2, 3] {
            let team = ThreadTeam(lanes: lanes)
            XCTAssertEqual(team.lanes, lanes)
            let slots = UnsafeMutablePointer<Int>.allocate(capacity: lanes)
            let sums = UnsafeMutablePointer<Int>.allocate(capacity: lanes)
            defer { slots.deallocate(); sums.deallocate() }
            for job in 0..<3000 {
                team.run { lane in
                    slots[lane.index] = job * 10 + lane.index
                    lane.barrier()
                    sums[lane.index] = (0..<lane.count).reduce(0) { $0 + slots[$1] }
                    lane.barrier()  // nobody overwrites a slot of the next job before every sum is taken
                }
                let expected = (0..<lanes).reduce(0) { $0 + job * 10 + $1 }
                for lane in 0..<lanes where sums[lane] != expected {
                    XCTFail("job \(job), lane \(lane): \(sums[lane]) instead of \(expected)")
                    return
                }
            }
        }
    }

    func testLaneSharesCoverTheRangeOnce() {
        for count in 1...4 {
            for n in [0, 1, 7, 64, 100, 1024] {
                for granule in [1, 16] {
                    let shares = (0..<count).map { Lane(index: $0, count: count, team: nil).share(n, granule: granule) }
                    XCTAssertEqual(shares.map(\.count).reduce(0, +), n)
                    for (a, b) in zip(shares, shares.dropFirst()) { XCTAssertEqual(a.upperBound, b.lowerBound) }
                    for share in shares.dropLast() { XCTAssertEqual(share.count % granule, 0, "\(count) lanes, \(n), \(granule)") }
                }
            }
        }
        // One clip (64 rows) is cut by columns; a tall input by rows.
        let lane = Lane(index: 1, count: 2, team: nil)
        XCTAssertTrue(lane.tile(rows: 64, cols: 768) == (0..<64, 384..<768))
        XCTAssertTrue(lane.tile(rows: 1729, cols: 768) == (864..<1729, 0..<768))
    }

    func testCPUMaxParsing() {
        XCTAssertNil(BLASThreads.parseCPUMax("max 100000\n"))
        XCTAssertEqual(BLASThreads.parseCPUMax("100000 100000\n"), 1)
        XCTAssertEqual(BLASThreads.parseCPUMax("150000 100000"), 2)
        XCTAssertEqual(BLASThreads.parseCPUMax("50000 100000"), 1)
        XCTAssertGreaterThanOrEqual(BLASThreads.availableCores(), 1)
    }

    private func apply(_ kernel: (UnsafeMutablePointer<Float>?, UnsafePointer<Float>?, Int) -> Void, to x: [Float]) -> [Float] {
        var out = [Float](repeating: .nan, count: x.count)
        kernel(&out, x, x.count)
        return out
    }
}

/// Runs `body` once with each kernel path this CPU supports, then restores the path in use.
func forEachPath(_ body: (KernelPath) throws -> Void, file: StaticString = #filePath, line: UInt = #line) rethrows {
    XCTAssertGreaterThanOrEqual(KernelPath.supported.count, 1, file: file, line: line)
    for path in KernelPath.supported { try withPath(path) { try body(path) } }
}

func withPath<T>(_ path: KernelPath, _ body: () throws -> T) rethrows -> T {
    let previous = KernelPath.current
    precondition(KernelPath.use(path), "\(path) is not supported")
    defer { KernelPath.use(previous) }
    return try body()
}
