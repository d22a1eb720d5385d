/// SignBERT v2's per-joint features of one clip (spec, "v2", steps 1-2), written as one row per token
/// n = t·V + v: [x, velocity, bone] (the groups the flags enable), each C wide.
///
/// `clip` is [frames, joints, coords]; `out` holds frames·joints·C' floats; `normalised` frames·joints·coords
/// floats and `distances` `frames` floats of scratch. `parents[v]` is the bone's other end or -1.
func skeletonFeatures(_ out: UnsafeMutablePointer<Float>, clip: UnsafePointer<Float>,
                      normalised x: UnsafeMutablePointer<Float>, distances: UnsafeMutablePointer<Float>,
                      flags: SignBERTV2Flags, parents: [Int], frames: Int, joints: Int, coords: Int) {
    let frameFloats = joints * coords
    x.update(from: clip, count: frames * frameFloats)
    if flags.normalizeSkeleton {
        normaliseSkeleton(x, distances: distances, frames: frames, joints: joints, coords: coords)
    }
    let width = coords * flags.featureGroups
    for t in 0..<frames {
        for v in 0..<joints {
            let src = x + t * frameFloats + v * coords
            var dst = out + (t * joints + v) * width
            for c in 0..<coords { dst[c] = src[c] }
            dst += coords
            if flags.useVelocity {
                // vel[0] = 0; vel[t] = x[t] - x[t-1]
                for c in 0..<coords { dst[c] = t == 0 ? 0 : src[c] - src[c - frameFloats] }
                dst += coords
            }
            if flags.useBone {
                let parent = parents[v]
                for c in 0..<coords { dst[c] = parent < 0 ? 0 : src[c] - x[t * frameFloats + parent * coords + c] }
            }
        }
    }
}

/// In place: subtract joint 0 from every joint (all C channels, every frame); then, with more than two
/// joints, divide all channels by 1.2 · the lower median over frames of the x,y distance between joints 1
/// and 2 (clamped to >= 1e-6), as `torch.median` picks for an even count.
func normaliseSkeleton(_ x: UnsafeMutablePointer<Float>, distances: UnsafeMutablePointer<Float>,
                       frames: Int, joints: Int, coords: Int) {
    let frameFloats = joints * coords
    for t in 0..<frames {
        let frame = x + t * frameFloats
        for v in stride(from: joints - 1, through: 0, by: -1) {  // joint 0 last: it is the one subtracted
            for c in 0..<coords { frame[v * coords + c] -= frame[c] }
        }
    }
    guard joints > 2 else { return }
    let planar = min(coords, 2)
    for t in 0..<frames {
        let a = x + t * frameFloats + coords, b = a + coords
        var squares: Float = 0
        for c in 0..<planar { squares += (a[c] - b[c]) * (a[c] - b[c]) }
        distances[t] = max(squares.squareRoot(), 1e-6)
    }
    var sorted = UnsafeMutableBufferPointer(start: distances, count: frames)
    sorted.sort()
    let denominator: Float = 1.2 * sorted[(frames - 1) / 2]
    for i in 0..<(frames * frameFloats) { x[i] /= denominator }
}

/// The mediapipe_27 skeleton's bone parents (spec, "v2", step 2); any other joint count has no bones.
func skeletonParents(joints: Int) -> [Int] {
    guard joints == 27 else { return [Int](repeating: -1, count: joints) }
    return [-1, 0, 0, 1, 2, 3, 5, 6, 5, 8, 5, 10, 5, 12, 5, 14, 4, 16, 17, 16, 19, 16, 21, 16, 23, 16, 25]
}

/// Hand type of each joint: 0 body (joints 0-4), 1 left hand (5-15), 2 right hand (16-26) for
/// mediapipe_27; 0 for every joint of any other layout.
func handTypes(joints: Int) -> [Int] {
    guard joints == 27 else { return [Int](repeating: 0, count: joints) }
    return (0..<27).map { $0 < 5 ? 0 : ($0 < 16 ? 1 : 2) }
}
