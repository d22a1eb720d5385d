public import HTTPServer

/// What an `HTTPRequestDecoder` made of a byte stream: its events in order, then its error or what it still
/// holds. Feeding the same stream in different pieces must give the same transcript.
public struct HTTPTranscript: Equatable {
    public var events: [String] = []
    public var error: HTTPDecodingError?
    /// Bytes held and whether they start a new request, once the stream is fed (only when no error).
    public var bufferedByteCount = 0
    public var atRequestBoundary = true
    /// Bodies of the complete requests, in order.
    public var bodies: [[UInt8]] = []

    /// Feeds `stream` in the given pieces, draining events after each, and checks each event on the way.
    public static func decode(_ pieces: [ArraySlice<UInt8>], limits: HTTPRequestDecoder.Limits) -> HTTPTranscript {
        var decoder = HTTPRequestDecoder(limits: limits)
        var transcript = HTTPTranscript()
        var pendingHead: String?
        feeding: for piece in pieces {
            decoder.append(piece)
            while true {
                let event: HTTPRequestDecoder.Event?
                do {
                    event = try decoder.next()
                } catch {
                    transcript.error = error
                    // A failed decoder stays failed: the next call must rethrow the same error.
                    do { _ = try decoder.next(); fuzzCheck(false, "decoder recovered after \(error)") } catch let again {
                        fuzzCheck(again == error, "decoder threw \(again) after \(error)")
                    }
                    break feeding
                }
                guard let event else { break }
                switch event {
                case .head(let head):
                    fuzzCheck(pendingHead == nil, "two heads without a request between them")
                    check(head, limits: limits)
                    pendingHead = describe(head)
                    transcript.events.append("head " + describe(head))
                case .request(let head, let body):
                    fuzzCheck(pendingHead == describe(head), "request without its head")
                    pendingHead = nil
                    check(head, body: body, limits: limits)
                    transcript.events.append("request \(body.count)")
                    transcript.bodies.append(body)
                }
            }
        }
        // After an error the decoder holds whatever had been fed by then, which depends on the pieces.
        if transcript.error == nil {
            transcript.bufferedByteCount = decoder.bufferedByteCount
            transcript.atRequestBoundary = decoder.isAtRequestBoundary
        }
        return transcript
    }

    static func describe(_ head: HTTPRequestHead) -> String {
        let fields = head.headers.map { "\($0.name): \($0.value)" }.joined(separator: "|")
        return "\(head.method) \(head.target) \(head.version) \(head.framing) keepAlive=\(head.keepAlive) "
            + "continue=\(head.expectsContinue) [\(fields)]"
    }

    static func check(_ head: HTTPRequestHead, limits: HTTPRequestDecoder.Limits) {
        fuzzCheck(head.headers.count <= limits.maxHeaderCount, "\(head.headers.count) header fields passed the limit")
        fuzzCheck(!head.method.isEmpty && !head.target.isEmpty, "empty method or target accepted")
        if case .length(let count) = head.framing {
            fuzzCheck(count >= 0 && count <= limits.maxBodyBytes, "Content-Length \(count) accepted")
        }
    }

    static func check(_ head: HTTPRequestHead, body: [UInt8], limits: HTTPRequestDecoder.Limits) {
        fuzzCheck(body.count <= limits.maxBodyBytes, "a body of \(body.count) bytes passed the limit")
        switch head.framing {
        case .none: fuzzCheck(body.isEmpty, "a request without framing has a body")
        case .length(let count): fuzzCheck(body.count == count, "Content-Length \(count) but \(body.count) bytes")
        case .chunked: break
        }
    }
}

extension HTTPRequestDecoder.Limits {
    /// Small limits, so the fuzzer reaches every limit check with short inputs.
    public static let small = HTTPRequestDecoder.Limits(maxHeaderBytes: 512, maxHeaderCount: 8, maxBodyBytes: 1024)
}
