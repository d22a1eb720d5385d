import Dispatch

/// Takes an HTTP/2 request's body as it arrives, for a responder that answers while the client still sends
/// (`HTTPResponder.bodyStreamHandler`). Every method is called on the connection's queue, possibly from inside
/// libnghttp2: it must only hand its work on (to a queue of its own) and return. Calls come in order: `received`
/// any number of times, then at most one of `receivedEnd`, and `cancelled` at most once, last.
public protocol HTTPBodyStreamHandler: AnyObject, Sendable {
    /// The next bytes of the body. The HTTP/2 flow-control window gives the client credit for them only when the
    /// handler calls `HTTPStreamWriter.consumed`: a handler that stops consuming stops the upload. Until then they
    /// count in the server's body budget (`RequestBodyBudget`), so a handler consumes bytes once it no longer holds them.
    func received(_ bytes: [UInt8])
    /// The client ended its side of the stream (END_STREAM); the handler still answers and then `finish`es.
    func receivedEnd()
    /// The stream is gone (reset by the client, the connection closed, or the client stopped reading for the
    /// write timeout): nothing more can be sent, work for it can stop.
    func cancelled()
    /// No byte in either direction for `bodyStreamIdleTimeout`. A handler with nothing in progress ends the stream;
    /// one still working ignores it (it is asked again after another timeout).
    func idle()
    /// The server drains: the handler answers what it has taken, then `finish`es; the connection's GOAWAY follows.
    func drain()
}

/// Sends a body-streamed request's answer: a head, then DATA as it is ready, then the trailers that end the stream,
/// all possibly before the request's END_STREAM. Usable from any thread; calls are applied in order on the
/// connection's queue, and are ignored once the stream or connection is gone.
public final class HTTPStreamWriter: @unchecked Sendable {
    // @unchecked: `connection` is weak (atomic to read) and only used on `queue`; the rest is immutable.
    private weak var connection: HTTP2Connection?
    private let queue: DispatchQueue
    private let streamID: Int32

    init(connection: HTTP2Connection, streamID: Int32) {
        self.connection = connection
        self.queue = connection.connection.queue
        self.streamID = streamID
    }

    /// The response's status and header fields (its body is ignored); no `content-length`. Sent first: `send` and
    /// `finish` before it send a bare 200 head.
    public func sendHead(_ response: HTTPResponse) {
        queue.async { [self] in connection?.streamHead(streamID, response) }
    }

    /// Body bytes. `whenSent` runs (on the connection's queue: hand it on) once the client's flow-control window
    /// has let all of them into DATA frames; a handler bounds what it keeps unsent by waiting for it.
    public func send(_ bytes: [UInt8], whenSent: (@Sendable () -> Void)? = nil) {
        queue.async { [self] in connection?.streamData(streamID, bytes, whenSent: whenSent) }
    }

    /// Ends the stream after what was sent, with `trailers`. If the client is still sending, the rest of its upload
    /// is cancelled with RST_STREAM(NO_ERROR) after the trailers (RFC 9113 §8.1).
    public func finish(trailers: HTTPHeaders) {
        queue.async { [self] in connection?.streamFinish(streamID, trailers: trailers) }
    }

    /// The handler is done with `count` more received bytes: the client's window for this stream opens by as much,
    /// and the body budget gets them back.
    public func consumed(_ count: Int) {
        guard count > 0 else { return }
        queue.async { [self] in connection?.streamConsumed(streamID, count) }
    }
}
