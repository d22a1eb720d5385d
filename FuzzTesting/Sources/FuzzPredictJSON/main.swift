import FuzzSupport
import SignBERTRuntime
import WireFormats

/// The `/predict` body decoder (array clips and the MediaPipe landmark form) against a small mediapipe_27
/// model. A body it accepts must give whole, finite clips of the model's shape and a top_k the model can
/// answer; anything else must be a `RequestError` with a message.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPredictJSON(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(UnsafeBufferPointer(start: start, count: count))
    let config = FuzzConfig.model
    do {
        let request = try PredictionRequestDecoder.decode(bytes, config: config, preparation: FuzzConfig.preparation,
                                                          maxClips: FuzzConfig.maxBatchSize,
                                                          maxFrames: FuzzConfig.maxFrames)
        FuzzConfig.checkClips(request.clips, batch: request.batch, what: "/predict")
        fuzzCheck((1...config.numClasses).contains(request.topK), "top_k \(request.topK) accepted")
    } catch {
        fuzzCheck(!error.message.isEmpty, "an error without a message")
    }
    return 0
}
