import FuzzSupport
import InferenceService
import SignBERTRuntime

/// The Open Inference (KServe V2) request decoder: JSON, and JSON header plus binary tensor bytes. The first
/// control byte picks the `Inference-Header-Content-Length` header: absent (JSON only), the decimal value of
/// the next two bytes (little-endian), or up to 15 raw bytes taken as its text. The rest is the body.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOpenInference(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    var input = FuzzInput(start, count)
    let headerLength: String?
    switch input.byte() % 4 {
    case 0, 1: headerLength = nil
    case 2: headerLength = String(input.uint16())
    default:
        let length = Int(input.byte() % 16)
        headerLength = String(decoding: (0..<length).map { _ in input.byte() }, as: UTF8.self)
    }
    let body = Array(input.rest)
    do {
        let decoded = try OpenInferenceRequestDecoder.decodeClips(
            body, headerLength: headerLength, config: FuzzConfig.model, preparation: FuzzConfig.preparation,
            maxClips: FuzzConfig.maxBatchSize,
            maxFrames: FuzzConfig.maxFrames)
        FuzzConfig.checkClips(decoded.clips, batch: decoded.batch, what: "V2 infer")
        fuzzCheck((1...2).contains(decoded.outputCount), "\(decoded.outputCount) outputs asked for")
    } catch {
        fuzzCheck(!error.message.isEmpty, "an error without a message")
    }
    return 0
}
