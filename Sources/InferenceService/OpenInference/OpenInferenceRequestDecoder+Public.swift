public import SignBERTRuntime

extension OpenInferenceRequestDecoder {
    /// What a V2 inference body decodes to, for callers outside the module (the fuzz targets in FuzzTesting/):
    /// the model-ready clips ([batch, D, V·C] float32 at the preparation's D), the batch and how many outputs
    /// were asked for. The same checks and errors as `POST /v2/models/{name}/infer`.
    public static func decodeClips(_ body: [UInt8], headerLength: String?, config: SignBERTConfig,
                                   preparation: ClipPreparation, maxClips: Int,
                                   maxFrames: Int) throws(RequestError) -> (clips: [Float], batch: Int, outputCount: Int) {
        let request = try decode(body, headerLength: headerLength, config: config, preparation: preparation,
                                 maxClips: maxClips, maxFrames: maxFrames)
        return (request.clips, request.batch, request.outputs.count)
    }
}
