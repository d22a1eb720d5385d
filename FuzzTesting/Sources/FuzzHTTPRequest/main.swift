import FuzzSupport
import HTTPServer

/// The HTTP/1.1 request decoder on any byte stream, pipelined requests included. Control bytes: one picks
/// the limits (the server's defaults or small ones), then a split plan. The stream is decoded twice, whole
/// and in the plan's pieces; both transcripts (events, bodies, error, bytes left) must be equal, and every
/// event must respect the limits and its framing (checked in `HTTPTranscript`).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPRequest(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    var input = FuzzInput(start, count)
    let limits: HTTPRequestDecoder.Limits = input.byte() & 1 == 0 ? .small : HTTPRequestDecoder.Limits()
    let plan = input.splitPlan()
    let stream = input.rest
    let whole = HTTPTranscript.decode([stream], limits: limits)
    let split = HTTPTranscript.decode(pieces(of: stream, plan: plan), limits: limits)
    fuzzCheck(whole == split, "split at \(plan) decodes differently:\n\(whole)\n\(split)")
    return 0
}
