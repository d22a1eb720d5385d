// Row reductions with explicit SIMD accumulators: LLVM keeps a float sum in order (no reassociation),
// so a plain `sum += x[i]` loop runs one add per 4 cycles; eight lanes at a time it vectorises.

/// Σ x[i].
@inline(__always)
func sum(_ x: UnsafePointer<Float>, count: Int) -> Float {
    var lanes = SIMD8<Float>()
    var i = 0
    let raw = UnsafeRawPointer(x)
    while i + 8 <= count {
        lanes += raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
        i += 8
    }
    var total = lanes.sum()
    while i < count { total += x[i]; i += 1 }
    return total
}

/// Σ (x[i] - mean)².
@inline(__always)
func sumOfSquaredDeviations(_ x: UnsafePointer<Float>, count: Int, mean: Float) -> Float {
    var lanes = SIMD8<Float>()
    let centre = SIMD8<Float>(repeating: mean)
    var i = 0
    let raw = UnsafeRawPointer(x)
    while i + 8 <= count {
        let d = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self) - centre
        lanes += d * d
        i += 8
    }
    var total = lanes.sum()
    while i < count {
        let d = x[i] - mean
        total += d * d
        i += 1
    }
    return total
}

/// max x[i] (count > 0), eight lanes at a time (a scalar compare-and-branch loop cost 12 % of v2's
/// attention time).
@inline(__always)
func maximum(_ x: UnsafePointer<Float>, count: Int) -> Float {
    var lanes = SIMD8<Float>(repeating: -.infinity)
    var i = 0
    let raw = UnsafeRawPointer(x)
    while i + 8 <= count {
        lanes = pointwiseMax(lanes, raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self))
        i += 8
    }
    var best = lanes.max()
    while i < count { best = max(best, x[i]); i += 1 }
    return best
}
