extension SignBERTModel {
    /// SignBERT v2 steps 1-5 (spec, "v2"): per-joint features, one token per (frame, joint) through
    /// input_proj, the three embeddings, and the cls token first when the model has one. Leaves each clip's
    /// 1 + T·V (or T·V) token rows in `ws.hidden`.
    func embedV2(_ x: UnsafePointer<Float>, _ v2: V2Embeddings, _ flags: SignBERTV2Flags,
                 batch: Int, frames t: Int, workspace ws: ForwardWorkspace) {
        let joints = config.numJoints, d = config.embedDim
        let jointTokens = t * joints, n = config.tokens(frames: t)
        let width = config.tokenFeatures, clipFloats = t * config.inputFeatures
        for b in 0..<batch {
            skeletonFeatures(ws.features.pointer + b * jointTokens * width, clip: x + b * clipFloats,
                             normalised: ws.normalised.pointer, distances: ws.distances.pointer,
                             flags: flags, parents: parents, frames: t, joints: joints, coords: config.numCoords)
        }
        // All clips' tokens through input_proj in one GEMM (into `normed`, free until the first block),
        // then each moved to its place in the residual stream, after the cls row, with its embeddings.
        apply(weights.inputProj, ws.normed.pointer, ws.features.pointer, rows: batch * jointTokens)
        let first = flags.useClsToken ? 1 : 0
        for b in 0..<batch {
            let clip = ws.hidden.pointer + b * n * d
            if let cls = v2.cls { clip.update(from: cls.pointer, count: d) }
            for token in 0..<jointTokens {
                let src = ws.normed.pointer + (b * jointTokens + token) * d
                let dst = clip + (first + token) * d
                // The training code tiles temporal_pos_embed (T rows) V times along the token axis, so
                // token n = t·V + v gets row n mod T, not t (spec: kept for parity).
                let temporal = v2.temporal.pointer + (token % t) * d
                let joint = token % joints
                let jointRow = v2.joint.pointer + joint * d
                let hand = v2.handType.pointer + handTypes[joint] * d
                for j in 0..<d { dst[j] = src[j] + temporal[j] + jointRow[j] + hand[j] }
            }
        }
    }
}
