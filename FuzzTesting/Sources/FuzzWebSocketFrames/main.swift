import FuzzSupport
import HTTPServer

/// The WebSocket reader (frames to messages, RFC 6455 §5) on any client byte stream. Control bytes: one picks the
/// limits (small ones or the server's defaults), then a split plan for feeding the stream in pieces. Every message
/// must respect the limits, a control frame's payload fit in 125 bytes, and a refusal carry a close code a server
/// may send; the frame parser alone must agree with a re-encoding of every frame it accepted.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWebSocketFrames(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    var input = FuzzInput(start, count)
    let control = input.byte()
    let small = control & 1 == 1
    let maxFrame = small ? 64 : 1 << 20
    let maxMessage = small ? 128 : 1 << 20
    let plan = input.splitPlan()
    let stream = input.rest

    var reader = WebSocketMessageReader(maxFrameBytes: maxFrame, maxMessageBytes: maxMessage)
    readLoop: for piece in pieces(of: stream, plan: plan) {
        reader.append(piece)
        do {
            while let event = try reader.next() {
                switch event {
                case .text(let text):
                    fuzzCheck(text.utf8.count <= maxMessage, "a text message of \(text.utf8.count) bytes passed the limit")
                case .binary(let bytes):
                    fuzzCheck(bytes.count <= maxMessage, "a binary message of \(bytes.count) bytes passed the limit")
                case .ping(let payload), .pong(let payload):
                    fuzzCheck(payload.count <= 125, "a control frame of \(payload.count) bytes")
                case .close(let code, let reason):
                    fuzzCheck(code.map(WebSocketCloseCode.isSendable) ?? true, "close code \(code ?? 0) accepted")
                    fuzzCheck(reason.utf8.count <= 123, "a close reason of \(reason.utf8.count) bytes")
                }
            }
        } catch {
            fuzzCheck([1002, 1007, 1009].contains(error.code), "refused with close code \(error.code)")
            break readLoop
        }
    }

    // Frame level: whatever the parser accepts, encoded again (masked) and parsed, is the same frame.
    var parser = WebSocketFrameParser(maxFrameBytes: maxFrame)
    parser.append(stream)
    while let frame = try? parser.next() {
        var again = WebSocketFrameParser(maxFrameBytes: maxFrame)
        again.append(frame.encoded(mask: [control, 0x5A, 0xA5, 0xFF]))
        let reparsed = try? again.next()
        fuzzCheck(reparsed == frame, "a frame did not survive re-encoding")
        fuzzCheck(again.bufferedByteCount == 0, "re-encoding left \(again.bufferedByteCount) bytes")
    }
    return 0
}
