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

/// max x[i] (count > 0), with eight independent running maxima (a single compare-and-branch chain cost
/// 12 % of v2's attention time; SIMD8's generic `pointwiseMax` is not inlined here and was slower still).
@inline(__always)
func maximum(_ x: UnsafePointer<Float>, count: Int) -> Float {
    var m0 = -Float.infinity, m1 = m0, m2 = m0, m3 = m0, m4 = m0, m5 = m0, m6 = m0, m7 = m0
    var i = 0
    while i + 8 <= count {
        m0 = x[i] > m0 ? x[i] : m0
        m1 = x[i + 1] > m1 ? x[i + 1] : m1
        m2 = x[i + 2] > m2 ? x[i + 2] : m2
        m3 = x[i + 3] > m3 ? x[i + 3] : m3
        m4 = x[i + 4] > m4 ? x[i + 4] : m4
        m5 = x[i + 5] > m5 ? x[i + 5] : m5
        m6 = x[i + 6] > m6 ? x[i + 6] : m6
        m7 = x[i + 7] > m7 ? x[i + 7] : m7
        i += 8
    }
    while i < count { m0 = x[i] > m0 ? x[i] : m0; i += 1 }
    let a = max(max(m0, m1), max(m2, m3)), b = max(max(m4, m5), max(m6, m7))
    return max(a, b)
}
