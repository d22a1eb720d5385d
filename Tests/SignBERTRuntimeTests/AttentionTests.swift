import CKernels
import Foundation
@testable import SignBERTRuntime
import XCTest

/// The attention kernel (K and V in panels, register-tiled products, online softmax over key tiles) against a
/// plain double-precision computation that materialises every score, on every kernel path.
final class AttentionTests: XCTestCase {
    /// softmax(Q_h K_hᵀ / √hd) V_h per head, in double, heads side by side. Through raw pointers: the 1,729-token
    /// case is 10⁸ multiply-adds, too slow for a debug build's checked array indexing.
    private func reference(qkv: [Float], tokens: Int, dim: Int, heads: Int) -> [Float] {
        let headDim = dim / heads, stride = 3 * dim
        let x = qkv.map(Double.init)
        var out = [Float](repeating: 0, count: tokens * dim)
        var weights = [Double](repeating: 0, count: tokens)
        x.withUnsafeBufferPointer { x in
            weights.withUnsafeMutableBufferPointer { w in
                for h in 0..<heads {
                    for i in 0..<tokens {
                        let q = x.baseAddress! + i * stride + h * headDim
                        var largest = -Double.infinity
                        for j in 0..<tokens {
                            let k = x.baseAddress! + j * stride + dim + h * headDim
                            var dot = 0.0
                            for d in 0..<headDim { dot += q[d] * k[d] }
                            w[j] = dot / Double(headDim).squareRoot()
                            largest = max(largest, w[j])
                        }
                        var total = 0.0
                        for j in 0..<tokens { w[j] = Foundation.exp(w[j] - largest); total += w[j] }
                        for d in 0..<headDim {
                            var value = 0.0
                            for j in 0..<tokens { value += w[j] * x[j * stride + 2 * dim + h * headDim + d] }
                            out[i * dim + h * headDim + d] = Float(value / total)
                        }
                    }
                }
            }
        }
        return out
    }

    /// Random q, k, v with a spread of scales, so some key tiles raise a row's running max and some don't.
    private func check(tokens: Int, dim: Int, heads: Int, queryTile: Int = attentionQueryTile,
                       keyTile: Int = attentionKeyTile, seed: UInt64, file: StaticString = #filePath, line: UInt = #line) {
        var generator = SplitMix64(seed: seed)
        let qkv: [Float] = (0..<(tokens * 3 * dim)).map { i in
            let spread: Float = (i / (3 * dim)) % 7 == 0 ? 6 : 2  // some tokens with much larger scores
            return (Float(generator.next() >> 40) / Float(1 << 24) * 2 - 1) * spread
        }
        let expected = reference(qkv: qkv, tokens: tokens, dim: dim, heads: heads)
        let size = expected.map(abs).max() ?? 1
        forEachPath { path in
            var out = [Float](repeating: .nan, count: tokens * dim)  // NaN: every output must be written
            let count = attentionScratchCount(tokens: tokens, headDim: dim / heads, queryTile: queryTile, keyTile: keyTile)
            var scratch = [Float](repeating: .nan, count: count + 16)  // NaN: nothing read before it is written
            for i in count..<count + 16 { scratch[i] = 12345 }  // a guard past the end
            attention(&out, qkv: qkv, scratch: &scratch, tokens: tokens, dim: dim, heads: heads,
                      queryTile: queryTile, keyTile: keyTile)
            // Float32 rounding of sums over up to 1,729 keys, relative to the outputs' size (values up to 6 here);
            // a wrong rescale, a skipped tile or a misplaced panel is off by far more (tens of percent).
            XCTAssertLessThanOrEqual(maxAbsDifference(out, expected), 1e-5 * max(1, size),
                                     "\(path): tokens \(tokens), head_dim \(dim / heads), tiles \(queryTile)x\(keyTile)",
                                     file: file, line: line)
            XCTAssertEqual(Array(scratch[count...]), [Float](repeating: 12345, count: 16), "\(path): wrote past its scratch",
                           file: file, line: line)
        }
    }

    func testSmallTilesWithRaggedTails() {
        // Token counts that do and do not divide the tiles, down to a single token and a lone tail row.
        for (i, tokens) in [1, 2, 7, 16, 17, 48, 49, 97, 130].enumerated() {
            check(tokens: tokens, dim: 8, heads: 2, queryTile: 16, keyTile: 48, seed: UInt64(100 + i))
        }
    }

    func testHeadWidthsAroundThePanelWidth() {
        // head_dim below, at, between and above the 16-wide panels, and a key tile that is not a multiple of 16.
        for (i, headDim) in [1, 5, 16, 20, 32, 33, 64].enumerated() {
            check(tokens: 70, dim: 2 * headDim, heads: 2, queryTile: 13, keyTile: 40, seed: UInt64(200 + i))
        }
    }

    func testModelTilesAtV1AndV2Lengths() {
        // 64 tokens (v1: one tile of keys), 163 (a small v2), 1,729 (v2 defaults: 4 key tiles, a 1-row query tail).
        check(tokens: 64, dim: 256, heads: 8, seed: 1)
        check(tokens: 163, dim: 16, heads: 2, seed: 2)
        check(tokens: 1729, dim: 64, heads: 2, seed: 3)
    }

    func testScratchIsLinearInTheTokens() {
        // K and V panels (tokens rounded up to 16, head_dim rounded up to 16), a 64 x 512 tile, two floats per row.
        XCTAssertEqual(attentionScratchCount(tokens: 1729, headDim: 32), 1744 * 32 + 32 * 1729 + 64 * 512 + 2 * 64)
        XCTAssertEqual(attentionScratchCount(tokens: 10, headDim: 20), 16 * 20 + 32 * 10 + 10 * 10 + 2 * 10)
        // A key tile that is not a multiple of 16 is rounded up to whole panels.
        XCTAssertEqual(attentionScratchCount(tokens: 100, headDim: 16, queryTile: 8, keyTile: 40),
                       112 * 16 + 16 * 100 + 8 * 48 + 2 * 8)
    }
}
