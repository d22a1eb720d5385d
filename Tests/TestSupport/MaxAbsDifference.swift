/// The largest |a[i] - b[i]|; infinity when the counts differ or any pair's difference is NaN (an output never
/// written, a NaN computed): `max()` would pass over a NaN, and a test comparing through it would pass on one.
public func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    guard a.count == b.count else { return .infinity }
    var worst: Float = 0
    for (x, y) in zip(a, b) {
        let difference = abs(x - y)
        if difference.isNaN { return .infinity }
        worst = max(worst, difference)
    }
    return worst
}
