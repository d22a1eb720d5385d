import Dispatch
import HTTPServer
import SwiftProtobuf

/// One ModelStreamInfer call while it is open: its request messages are read as their bytes arrive, each sent to
/// the inference core as soon as it is complete, and each answer written as soon as it and those before it are
/// computed (in request order; each carries its request's `id`, as Triton's do). The stream stays open between
/// messages up to the HTTP/2 layer's `bodyStreamIdleTimeout`.
///
/// Back-pressure: received bytes are consumed (HTTP/2 window credit for the client, body budget back to the server)
/// only as their message is started, and at most `maxPendingAnswers` requests are in progress or answered-but-unsent
/// per stream; past that the call starts no message, so a client that does not read its answers stalls its own
/// uploads (one stream window of unread bytes) instead of filling the server's memory.
///
/// `@unchecked Sendable`: every mutable field is confined to `queue`.
final class GRPCStreamCall: HTTPBodyStreamHandler, @unchecked Sendable {
    static let maxPendingAnswers = 16

    private let service: GRPCService
    private let head: HTTPRequest
    private let writer: HTTPStreamWriter
    private let queue = DispatchQueue(label: "GRPCStreamCall", target: .global())
    private let compressed: Bool
    private var coding: BodyDecompression.Coding?

    /// Received bytes not yet read as messages, from `offset`.
    private var buffer: [UInt8] = []
    private var offset = 0
    /// Requests taken and not yet sent back (computing, waiting for an earlier one, or held by the client's window).
    private var pending = 0
    private var nextIndex = 0
    private var nextToWrite = 0
    /// Answers computed before an earlier one, framed, by request index.
    private var computed: [Int: [UInt8]] = [:]
    private var requestEnded = false
    private var draining = false
    private var finished = false

    init(service: GRPCService, head: HTTPRequest, writer: HTTPStreamWriter) {
        self.service = service
        self.head = head
        self.writer = writer
        compressed = GRPCMessageFraming.compressesAnswers(head.headers)
        var headers = GRPCService.responseHeaders(compressed: compressed)
        if let id = head.headers["X-Request-Id"] { headers.replace(name: "X-Request-Id", value: id) }
        writer.sendHead(HTTPResponse(status: 200, headers: headers))
        queue.async { [self] in
            do throws(GRPCStatus) { coding = try GRPCMessageFraming.compression(head.headers["grpc-encoding"]) } catch { finish(error) }
        }
    }

    // MARK: HTTPBodyStreamHandler (on the connection's queue: each hops to `queue`)

    func received(_ bytes: [UInt8]) { queue.async { [self] in take(bytes) } }
    func receivedEnd() { queue.async { [self] in requestEnded = true; process() } }
    func cancelled() { queue.async { [self] in finished = true; computed = [:]; buffer = [] } }
    func drain() { queue.async { [self] in draining = true; process() } }

    func idle() {
        queue.async { [self] in
            guard !finished, pending == 0 else { return }  // still answering: not idle
            finish(GRPCStatus(.deadlineExceeded, "the stream was idle (no request message and no answer pending) for the server's stream idle timeout; open a new stream"))
        }
    }

    // MARK: Messages

    private func take(_ bytes: [UInt8]) {
        // While draining, only what had arrived is answered.
        guard !finished, !draining else { return }
        buffer.append(contentsOf: bytes)
        process()
    }

    /// Starts every complete message the bound allows, consuming its bytes, and ends the stream once the client has
    /// ended its side (or the server drains) and every answer is out.
    private func process() {
        guard !finished else { return }
        while pending < Self.maxPendingAnswers {
            let next: (message: [UInt8], end: Int)?
            do {
                next = try GRPCMessageFraming.nextMessage(in: buffer, from: offset, coding: coding,
                                                          maxMessageBytes: service.maxMessageBytes)
            } catch {
                return finish(error)
            }
            guard let (message, end) = next else { break }
            writer.consumed(end - offset)
            offset = end
            start(message)
        }
        compact()
        guard pending == 0, requestEnded || draining else { return }
        if draining {
            finish(GRPCStatus(.unavailable, "the server is shutting down; this stream's pending answers were sent, open a new stream elsewhere or later"))
        } else if offset < buffer.count {
            finish(GRPCStatus(.internal, "the stream ended inside a message (\(buffer.count - offset) bytes of it arrived)"))
        } else {
            finish(.ok)
        }
    }

    private func compact() {
        if offset == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.count <= 1 << 20)
            offset = 0
        } else if offset > 64 * 1024 {
            buffer.removeFirst(offset)
            offset = 0
        }
    }

    private func start(_ message: [UInt8]) {
        let index = nextIndex
        nextIndex += 1
        pending += 1
        // Each message has the server's request timeout from now, or less if the call's grpc-timeout ends sooner.
        var deadline = ContinuousClock.now + service.context.configuration.requestTimeout
        if let asked = head.headers["grpc-timeout"].flatMap(GRPCTimeout.parse) { deadline = min(deadline, head.receivedAt + asked) }
        service.streamAnswer(message, index: index, request: head, deadline: deadline) { [self] answer in
            let framed: [UInt8]
            do {
                var bytes: [UInt8] = []
                GRPCMessageFraming.frameAnswer(try answer.serializedBytes(), compressed: compressed, into: &bytes)
                framed = bytes
            } catch {
                framed = []
            }
            queue.async { [self] in answered(index, framed) }
        }
    }

    /// Writes the answers that are next in order; each frees its place in the bound once the client's window has
    /// let it out.
    private func answered(_ index: Int, _ framed: [UInt8]) {
        guard !finished else { return }
        computed[index] = framed
        while let bytes = computed.removeValue(forKey: nextToWrite) {
            nextToWrite += 1
            writer.send(bytes) { [self] in queue.async { [self] in sent() } }
        }
    }

    private func sent() {
        pending -= 1
        process()
    }

    private func finish(_ status: GRPCStatus) {
        guard !finished else { return }
        finished = true
        computed = [:]
        buffer = []
        offset = 0
        writer.finish(trailers: HTTPHeaders(status.trailers))
    }
}
