import Foundation
@testable import SignBERTRuntime
import XCTest

/// The tiled (online-softmax) attention against the naive kernel that materialises every score.
final class TiledAttentionTests: XCTestCase {
    /// Random q, k, v with a spread of scales, so some key tiles raise a row's running max and some don't.
    private func check(tokens: Int, dim: Int, heads: Int, queryTile: Int, keyTile: Int, seed: UInt64,
                       file: StaticString = #filePath, line: UInt = #line) {
        var generator = SplitMix64(seed: seed)
        let qkv: [Float] = (0..<(tokens * 3 * dim)).map { i in
            let spread: Float = (i / (3 * dim)) % 7 == 0 ? 6 : 2  // some tokens with much larger scores
            return (Float(generator.next() >> 40) / Float(1 << 24) * 2 - 1) * spread
        }
        var naive = [Float](repeating: 0, count: tokens * dim)
        var scores = [Float](repeating: 0, count: tokens * tokens)
        attention(&naive, qkv: qkv, scores: &scores, tokens: tokens, dim: dim, heads: heads)

        var tiled = [Float](repeating: .nan, count: tokens * dim)  // NaN: every output must be written
        let rows = min(queryTile, tokens), keys = min(keyTile, tokens)
        var scratch = [Float](repeating: 0, count: rows * keys + 2 * rows)
        tiledAttention(&tiled, qkv: qkv, scratch: &scratch, tokens: tokens, dim: dim, heads: heads,
                       queryTile: queryTile, keyTile: keyTile)
        // Float32 rounding of sums over up to 1,729 keys, relative to the outputs' size (values up to 6 here);
        // a wrong rescale or a skipped tile is off by far more (tens of percent).
        let worst = maxAbsDifference(tiled, naive)
        let size = naive.map(abs).max() ?? 1
        XCTAssertLessThanOrEqual(worst, 1e-5 * max(1, size), "tokens \(tokens), tiles \(queryTile)x\(keyTile)", file: file, line: line)
    }

    func testSmallTilesWithRaggedTails() {
        // Token counts that do and do not divide the tiles, down to a single token and a lone tail row.
        for (i, tokens) in [1, 2, 7, 16, 17, 48, 49, 97, 130].enumerated() {
            check(tokens: tokens, dim: 8, heads: 2, queryTile: 16, keyTile: 48, seed: UInt64(100 + i))
        }
    }

    func testModelTilesAtV1AndV2Lengths() {
        // 64 tokens (v1: one tile of keys), 163 (a small v2), 1,729 (v2 defaults: 4 key tiles, a 1-row query tail).
        check(tokens: 64, dim: 32, heads: 4, queryTile: attentionQueryTile, keyTile: attentionKeyTile, seed: 1)
        check(tokens: 163, dim: 16, heads: 2, queryTile: attentionQueryTile, keyTile: attentionKeyTile, seed: 2)
        check(tokens: 1729, dim: 64, heads: 2, queryTile: attentionQueryTile, keyTile: attentionKeyTile, seed: 3)
    }

    func testScratchIsSizedForTheTilesOnly() {
        XCTAssertEqual(tiledAttentionScratchCount(tokens: 1729), 64 * 512 + 2 * 64)
        XCTAssertEqual(tiledAttentionScratchCount(tokens: 10), 10 * 10 + 2 * 10)
    }
}
