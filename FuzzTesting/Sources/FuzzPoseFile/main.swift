import FuzzSupport
import SignBERTRuntime
import WireFormats

/// The `.pose` reader (v0.1 and v0.2), then, for a file it accepts, the preprocessing a `.pose` body gets
/// on `/predict`. An accepted file holds at most `maxFrames` frames; its model input is whole and finite.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPoseFile(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(UnsafeBufferPointer(start: start, count: count))
    let file: PoseFile
    do {
        file = try PoseFileReader.readFile(bytes, maxFrames: FuzzConfig.maxFrames)
    } catch {
        fuzzCheck(!error.message.isEmpty, "an error without a message")
        return 0
    }
    fuzzCheck((1...FuzzConfig.maxFrames).contains(file.clip.frameCount), "\(file.clip.frameCount) frames accepted")
    do {
        let clip = try PredictionRequestDecoder.decodePose(bytes, config: FuzzConfig.model, preparation: FuzzConfig.preparation,
                                                           maxFrames: FuzzConfig.maxFrames)
        FuzzConfig.checkClips(clip, batch: 1, what: ".pose body")
    } catch {
        fuzzCheck(!error.message.isEmpty, "an error without a message")
    }
    return 0
}
