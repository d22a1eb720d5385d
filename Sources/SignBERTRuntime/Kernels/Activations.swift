/// GELU, exact (erf) form as nn.GELU(): 0.5·x·(1 + erf(x/√2)), in place.
func gelu(_ x: UnsafeMutablePointer<Float>, count: Int) {
    for i in 0..<count {
        let v = x[i]
        x[i] = 0.5 * v * (1 + fastErf(v * 0.707_106_781_186_547_5))
    }
}

/// Row-wise softmax in place: subtract the row's max, exponentiate, normalise.
func softmaxRows(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
    for r in 0..<rows {
        let row = x + r * cols
        let largest = maximum(row, count: cols)
        for j in 0..<cols { row[j] = fastExp(row[j] - largest) }
        let scale = 1 / sum(row, count: cols)
        for j in 0..<cols { row[j] *= scale }
    }
}
