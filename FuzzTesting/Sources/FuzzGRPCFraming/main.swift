import FuzzSupport
import InferenceService
import SignBERTRuntime

/// gRPC's length-prefixed message framing (compressed flag, 4-byte length, truncation) as a call's body is read,
/// then each message as a ModelInferRequest. The first control byte picks the `grpc-encoding` (none, identity,
/// gzip, deflate or an unknown one) and the message limit (64 KiB or 300 bytes); the rest is the body.
/// Invariants: a refusal has a framing status (INTERNAL, RESOURCE_EXHAUSTED or UNIMPLEMENTED) and a message; no
/// accepted message exceeds the limit; an uncompressed body re-framed is the body itself.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGRPCFraming(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    var input = FuzzInput(start, count)
    let control = input.byte()
    let encodings: [String?] = [nil, "identity", "gzip", "deflate", "br"]
    let encoding = encodings[Int(control % 5)]
    let limit = control & 0x80 == 0 ? 64 * 1024 : 300
    let body = Array(input.rest)
    // A stream reads the same body in pieces: split where the control byte says.
    let split = body.isEmpty ? 0 : Int(control) * 37 % (body.count + 1)
    let streamed = GRPCRequestDecoding.messagesInTwoParts(body, split: split, encoding: encoding, maxMessageBytes: limit)
    switch GRPCRequestDecoding.messages(body, encoding: encoding, maxMessageBytes: limit) {
    case .failure(let refusal):
        fuzzCheck([13, 8, 12].contains(refusal.code), "framing refused with status \(refusal.code)")
        fuzzCheck(!refusal.message.isEmpty, "a refusal without a message")
        fuzzCheck(streamed == nil, "read in two parts, a refused body was accepted")
    case .success(let messages):
        fuzzCheck(streamed == messages, "read in two parts (split at \(split)), the body gives other messages")
        fuzzCheck(messages.allSatisfy { $0.count <= limit }, "a message over the \(limit)-byte limit was accepted")
        if encoding == nil || encoding == "identity" {
            fuzzCheck(GRPCRequestDecoding.frame(messages) == body, "re-framing the messages does not give the body back")
        }
        for message in messages.prefix(4) {
            do {
                if let decoded = try GRPCRequestDecoding.inferClips(
                    message, config: FuzzConfig.model, preparation: FuzzConfig.preparation,
                    maxClips: FuzzConfig.maxBatchSize, maxFrames: FuzzConfig.maxFrames) {
                    FuzzConfig.checkClips(decoded.clips, batch: decoded.batch, what: "gRPC ModelInfer")
                    fuzzCheck((1...2).contains(decoded.outputCount), "\(decoded.outputCount) outputs asked for")
                }
            } catch {
                fuzzCheck(!error.message.isEmpty, "an error without a message")
            }
        }
    }
    return 0
}
