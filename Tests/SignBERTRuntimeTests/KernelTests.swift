import Foundation
@testable import SignBERTRuntime
import XCTest

/// The element-wise kernels against Foundation's libm and naive loops.
final class KernelTests: XCTestCase {
    func testFastExpIsWithinFourUlpsAcrossTheSoftmaxRange() {
        var worst: Float = 0
        for i in 0...200_000 {
            let x = -87 + Float(i) * (175.0 / 200_000)
            let exact = Float(Foundation.exp(Double(x)))
            worst = max(worst, abs(fastExp(x) - exact) / exact)
        }
        XCTAssertLessThan(worst, 4 * Float.ulpOfOne, "worst relative error \(worst)")
        XCTAssertEqual(fastExp(-1000), 0, accuracy: 1e-37)
        XCTAssertTrue(fastExp(1000).isFinite)
    }

    func testFastErfIsWithin5e7() {
        var worst = 0.0
        for i in 0...200_000 {
            let x = -8 + Double(i) * (16.0 / 200_000)
            worst = max(worst, abs(Double(fastErf(Float(x))) - Foundation.erf(x)))
        }
        XCTAssertLessThan(worst, 5e-7, "worst absolute error \(worst)")  // 1.5e-7 formula + float rounding
        XCTAssertEqual(fastErf(0), 0, accuracy: 1e-7)
    }

    func testGeluMatchesTheErfDefinition() {
        let values: [Float] = (-400...400).map { Float($0) / 40 }
        var x = values
        x.withUnsafeMutableBufferPointer { gelu($0.baseAddress!, count: $0.count) }
        for (input, output) in zip(values, x) {
            let exact = 0.5 * Double(input) * (1 + Foundation.erf(Double(input) / 2.0.squareRoot()))
            XCTAssertEqual(Double(output), exact, accuracy: 2e-6, "gelu(\(input))")
        }
    }

    func testSoftmaxRowsSumToOneAndKeepOrder() {
        var x: [Float] = [1, 2, 3, 1000, 1001, 999]
        x.withUnsafeMutableBufferPointer { softmaxRows($0.baseAddress!, rows: 2, cols: 3) }
        XCTAssertEqual(x[0] + x[1] + x[2], 1, accuracy: 1e-6)
        XCTAssertEqual(x[3] + x[4] + x[5], 1, accuracy: 1e-6)
        XCTAssertEqual(Double(x[2]), exp(1) / (exp(-1) + 1 + exp(1)), accuracy: 1e-6)
        XCTAssertGreaterThan(x[4], x[3])
    }

    func testLayerNormMatchesTwoPassDefinition() {
        let dim = 7
        let x: [Float] = (0..<14).map { Float($0 * $0 % 11) + 1000 }  // large mean, small spread
        let weight: [Float] = (0..<dim).map { 1 + Float($0) / 10 }
        let bias: [Float] = (0..<dim).map { Float($0) / 100 }
        var out = [Float](repeating: 0, count: 14)
        layerNorm(&out, x, weight: weight, bias: bias, rows: 2, dim: dim)
        for r in 0..<2 {
            let row = x[r * dim..<(r + 1) * dim].map(Double.init)
            let mean = row.reduce(0, +) / Double(dim)
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(dim)
            for j in 0..<dim {
                let expected = (row[j] - mean) / (variance + 1e-5).squareRoot() * Double(weight[j]) + Double(bias[j])
                XCTAssertEqual(Double(out[r * dim + j]), expected, accuracy: 1e-4)
            }
        }
    }

    func testLinearMatchesNaiveProductWithPyTorchLayout() {
        // PyTorch weight [out=3, in=2]; the kernel takes it transposed to [in, out].
        let weight: [Float] = [1, 2, 3, 4, 5, 6]
        let x: [Float] = [1, -1, 2, 0.5]  // 2 rows of 2
        let bias: [Float] = [0.5, -0.5, 1]
        let w = transposed(weight, rows: 3, cols: 2)
        var out = [Float](repeating: 7, count: 6)
        linear(&out, x, weight: w, bias: bias, rows: 2, inDim: 2, outDim: 3)
        XCTAssertEqual(out, [-0.5, -1.5, 0, 3.5, 7.5, 14] as [Float])  // x·Wᵀ + b by hand
        linear(&out, x, weight: w, bias: bias, rows: 2, inDim: 2, outDim: 3, accumulate: true)
        XCTAssertEqual(out, [-1, -3, 0, 7, 15, 28] as [Float])  // the same added again
    }

    func testAttentionMatchesNaiveComputation() {
        let tokens = 5, dim = 4, heads = 2, headDim = 2
        var generator = SplitMix64(seed: 7)
        let qkv: [Float] = (0..<(tokens * 3 * dim)).map { _ in Float(generator.next() % 1000) / 500 - 1 }
        var out = [Float](repeating: 0, count: tokens * dim)
        var scores = [Float](repeating: 0, count: tokens * tokens)
        attention(&out, qkv: qkv, scores: &scores, tokens: tokens, dim: dim, heads: heads)
        for h in 0..<heads {
            for i in 0..<tokens {
                var weights = (0..<tokens).map { j -> Double in
                    (0..<headDim).map { d in Double(qkv[i * 3 * dim + h * headDim + d] * qkv[j * 3 * dim + dim + h * headDim + d]) }
                        .reduce(0, +) / Double(headDim).squareRoot()
                }
                let maximum = weights.max()!
                weights = weights.map { exp($0 - maximum) }
                let total = weights.reduce(0, +)
                for d in 0..<headDim {
                    let expected = (0..<tokens).map { j in weights[j] / total * Double(qkv[j * 3 * dim + 2 * dim + h * headDim + d]) }
                        .reduce(0, +)
                    XCTAssertEqual(Double(out[i * dim + h * headDim + d]), expected, accuracy: 1e-5)
                }
            }
        }
    }

    func testCPUMaxParsing() {
        XCTAssertNil(BLASThreads.parseCPUMax("max 100000\n"))
        XCTAssertEqual(BLASThreads.parseCPUMax("100000 100000\n"), 1)
        XCTAssertEqual(BLASThreads.parseCPUMax("150000 100000"), 2)
        XCTAssertEqual(BLASThreads.parseCPUMax("50000 100000"), 1)
        XCTAssertGreaterThanOrEqual(BLASThreads.availableCores(), 1)
    }
}
