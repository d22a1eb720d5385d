public import HTTPServer

/// What an `HTTPRequestDecoder` made of a byte stream: its events in order, then its error or what it still
/// holds. Feeding the same stream in different pieces must give the same transcript.
public struct HTTPTranscript: Equatable {
    /// A decoder event, kept as values: comparing them costs far less than formatting them as text
    /// (the first version did, at half the executions per second).
    public enum Event: Equatable {
        case head(Head)
        case request(bodyBytes: Int)
    }

    /// Everything a head carries that the two decodings must agree on.
    public struct Head: Equatable {
        var method: String
        var target: String
        var version: HTTPVersion
        var framing: HTTPRequestHead.BodyFraming
        var keepAlive: Bool
        var expectsContinue: Bool
        var fieldNames: [String]
        var fieldValues: [String]

        init(_ head: HTTPRequestHead) {
            method = head.method
            target = head.target
            version = head.version
            framing = head.framing
            keepAlive = head.keepAlive
            expectsContinue = head.expectsContinue
            fieldNames = head.headers.map(\.name)
            fieldValues = head.headers.map(\.value)
        }
    }

    public var events: [Event] = []
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
        var pendingHead: Head?
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
                    let summary = Head(head)
                    pendingHead = summary
                    transcript.events.append(.head(summary))
                case .request(let head, let body):
                    fuzzCheck(pendingHead == Head(head), "request without its head")
                    pendingHead = nil
                    check(head, body: body, limits: limits)
                    transcript.events.append(.request(bodyBytes: body.count))
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
