public import SignBERTRuntime

/// The gRPC request path below the HTTP/2 layer, for callers outside the module (the fuzz target
/// FuzzTesting/Sources/FuzzGRPCFraming): the same code and checks as a call the server receives.
public enum GRPCRequestDecoding {
    /// The messages of a request body (`GRPCMessageFraming.messages`), or the gRPC status code and message that
    /// refuse it.
    public static func messages(_ body: [UInt8], encoding: String?,
                                maxMessageBytes: Int) -> Result<[[UInt8]], GRPCRefusal> {
        do {
            return .success(try GRPCMessageFraming.messages(in: body, encoding: encoding, maxMessageBytes: maxMessageBytes))
        } catch {
            return .failure(GRPCRefusal(code: error.code.rawValue, message: error.message))
        }
    }

    /// The messages of `body` read as a stream reads them (`GRPCStreamCall`): first from the bytes up to `split`
    /// only, then from all of it, each message as soon as its bytes are there. Nil when the framing is refused (or the
    /// body ends inside a message). Must agree with `messages` on every body that it accepts.
    public static func messagesInTwoParts(_ body: [UInt8], split: Int, encoding: String?, maxMessageBytes: Int) -> [[UInt8]]? {
        let coding: BodyDecompression.Coding?
        do { coding = try GRPCMessageFraming.compression(encoding) } catch { return nil }
        var messages: [[UInt8]] = []
        var offset = 0
        for part in [Array(body.prefix(split)), body] {
            while true {
                let next: (message: [UInt8], end: Int)?
                do {
                    next = try GRPCMessageFraming.nextMessage(in: part, from: offset, coding: coding, maxMessageBytes: maxMessageBytes)
                } catch {
                    return nil
                }
                guard let (message, end) = next else { break }
                messages.append(message)
                offset = end
            }
        }
        return offset == body.count ? messages : nil
    }

    /// `messages`, each with its uncompressed 5-byte prefix.
    public static func frame(_ messages: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        for message in messages { GRPCMessageFraming.frame(message, into: &out) }
        return out
    }

    /// A ModelInferRequest message decoded to model-ready clips as ModelInfer decodes it; nil when it is not a
    /// valid protobuf message.
    public static func inferClips(_ message: [UInt8], config: SignBERTConfig, preparation: ClipPreparation, maxClips: Int,
                                  maxFrames: Int) throws(RequestError) -> (clips: [Float], batch: Int, outputCount: Int)? {
        guard let call = try? Inference_ModelInferRequest(serializedBytes: message) else { return nil }
        let (clips, context) = try GRPCInferCodec.decode(call, config: config, preparation: preparation,
                                                         maxClips: maxClips, maxFrames: maxFrames)
        return (clips.values, clips.batch, context.outputs.count)
    }
}

/// Why a gRPC request was refused: its `grpc-status` code and `grpc-message`.
public struct GRPCRefusal: Error, Sendable {
    public let code: Int
    public let message: String
}
