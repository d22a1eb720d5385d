// Fast exp and erf for the element-wise kernels.
//
// glibc's erff costs ~15 ns per call here, and the MLP evaluates GELU on ~400 K values per clip
// (6 ms, more than all the GEMMs); softmax needs ~200 K exps. These versions are branch-free scalar code
// that LLVM's loop vectoriser turns into SIMD (Swift's generic SIMD types fall back to per-lane code for
// clamping, selection and conversions). exp is accurate to a few ulps, erf to 5e-7 absolute: far
// inside the 1e-4 parity budget.

/// e^x: x = n·ln2 + r with |r| <= ln2/2, e^r by a degree-6 Taylor polynomial (error < 2e-7 relative),
/// 2^n assembled in the exponent bits. Inputs are clamped to the range where the result is finite and
/// normal; below it the result flushes to ~1e-38, which softmax and erf treat as 0.
@inline(__always)
func fastExp(_ x: Float) -> Float {
    let clamped = min(max(x, -87.3), 88.3)
    // Adding 1.5·2^23 rounds to an integer (to nearest even) kept in the low mantissa bits.
    let magic: Float = 12_582_912
    let n = (clamped * 1.442_695_040_888_963_4 + magic) - magic
    // ln2 split in a part exact in float and a remainder, so r keeps its low bits.
    var r = clamped - n * 0.693_145_751_953_125
    r = r - n * 1.428_606_765_330_187_0e-6
    var p: Float = 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    p = p * r + 1.0
    p = p * r + 1.0
    // 2^n: n + 127 + 1.5·2^23 leaves n + 127 (1...254 here) in the low 9 bits; shifted into the exponent.
    let scale = Float(bitPattern: (n + (magic + 127)).bitPattern << 23)
    return p * scale
}

/// erf(x) by Abramowitz & Stegun 7.1.26 (|error| <= 1.5e-7): for x >= 0,
/// erf(x) = 1 - t(a1 + t(a2 + t(a3 + t(a4 + t·a5)))) e^{-x²}, t = 1/(1 + p x); odd symmetry for x < 0.
@inline(__always)
func fastErf(_ x: Float) -> Float {
    let ax = x.magnitude
    let t = 1 / (1 + 0.327_591_1 * ax)
    var poly: Float = 1.061_405_429
    poly = poly * t - 1.453_152_027
    poly = poly * t + 1.421_413_741
    poly = poly * t - 0.284_496_736
    poly = poly * t + 0.254_829_592
    let y = 1 - poly * t * fastExp(-(ax * ax))
    // Copy x's sign onto y with bits, not a branch, so the loop vectorises.
    return Float(bitPattern: y.bitPattern | (x.bitPattern & 0x8000_0000))
}
