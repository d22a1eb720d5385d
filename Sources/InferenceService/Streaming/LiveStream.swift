import Dispatch
import Foundation
import HTTPServer
import JSONText
import Logging
import SignBERTRuntime
import Synchronization
import WireFormats

/// One live stream (docs/STREAMING.md): the WebSocket handler that takes a `start` message and frames, keeps the
/// last `window` frames, runs the window ending at every `stride`-th frame through the inference core (so windows
/// of all streams batch with requests), answers each with a prediction, and reports sign events.
///
/// Backpressure: at most one window is computing and one waits; a newer window replaces the waiting one, which
/// is counted as skipped. Memory per stream: the frame buffer (one window of frames) plus at most two windows'
/// frames (computing and waiting), whatever the client sends.
///
/// Messages arrive on the connection's queue; answers come on the compute thread. All state is under `state`,
/// and every message to the client is sent while holding it, so they go out in order.
final class LiveStream: WebSocketHandler {
    struct Context: Sendable {
        let loaded: LoadedModel
        let configuration: ServiceConfiguration
        let core: InferenceCore
        let metrics: ServiceMetrics
        let registry: StreamRegistry
        let logger: Logger
        let remoteAddress: String
        let path: String
        let requestID: String?
    }

    enum Phase { case awaitingStart, streaming, stopping, closed }

    /// A window waiting to run or running: its frames are copied out of the buffer when it is due.
    struct Window: Sendable {
        var start: Int
        var end: Int
        var frames: [JSONValue]
        var lastFrameAt: ContinuousClock.Instant
    }

    /// What waits for every window before it to be answered.
    enum Marker { case flushed, end, drained }

    struct State {
        var channel: WebSocketChannel?
        var phase = Phase.awaitingStart
        var opened = false
        var settings: StreamSettings?
        var decoder: StreamFrameDecoder?
        var detector: SignEventDetector?
        /// The last `window` frames, oldest first.
        var buffer: [JSONValue] = []
        var frameCount = 0
        /// The end frame of the last window scheduled (-1: none yet).
        var lastScheduledEnd = -1
        var computing = false
        var waiting: Window?
        var markers: [Marker] = []
        var skippedSinceLast = 0
        var skipped = 0
        var windows = 0
        var events = 0
        var closeCode: UInt16?
    }

    let context: Context
    let state = Mutex(State())
    let openedAt = ContinuousClock.now
    /// Read by the core to drop a queued window whose stream has gone.
    let gone = Atomic<Bool>(false)

    /// Window decoding runs here, off the compute thread and off the connection queues.
    static let decodeQueue = DispatchQueue(label: "LiveStream.decode", attributes: .concurrent)

    init(context: Context) { self.context = context }

    // MARK: WebSocketHandler

    func opened(_ channel: WebSocketChannel) {
        let admitted = context.registry.open(limit: context.configuration.maxStreams)
        state.withLock { state in
            state.channel = channel
            state.opened = admitted
            if !admitted {
                fail(&state, code: WebSocketCloseCode.tryAgainLater,
                     "too many open streams (at most \(context.configuration.maxStreams)); try again later")
            }
        }
        if admitted { context.metrics.streamOpened() }
    }

    func received(_ message: WebSocketMessage) {
        let arrived = ContinuousClock.now
        let toRun: Window? = state.withLock { state -> Window? in
            switch state.phase {
            case .stopping, .closed: return nil
            case .awaitingStart, .streaming: break
            }
            do throws(RequestError) { return try handle(message, arrived: arrived, &state) } catch {
                fail(&state, code: WebSocketCloseCode.invalidData, error.message)
                return nil
            }
        }
        if let toRun { run(toRun) }
    }

    func drain() {
        let toRun: Window? = state.withLock { state -> Window? in
            guard state.phase == .streaming || state.phase == .awaitingStart else { return nil }
            if state.phase == .awaitingStart {
                sendError(&state, code: WebSocketCloseCode.goingAway, "the server is shutting down")
                return nil
            }
            state.phase = .stopping
            state.markers.append(.drained)
            return runMarkersIfIdle(&state)
        }
        if let toRun { run(toRun) }
    }

    func closed(code: UInt16?) {
        gone.store(true, ordering: .relaxed)
        let summary = state.withLock { state -> State? in
            guard state.phase != .closed else { return nil }
            state.phase = .closed
            state.channel = nil
            state.closeCode = state.closeCode ?? code
            return state
        }
        guard let summary, summary.opened else { return }
        context.registry.close()
        context.metrics.streamClosed()
        var metadata: Logger.Metadata = [
            "path": "\(context.path)",
            "remote": "\(context.remoteAddress)",
            "frames": .stringConvertible(summary.frameCount),
            "windows": .stringConvertible(summary.windows),
            "skipped": .stringConvertible(summary.skipped),
            "events": .stringConvertible(summary.events),
            "duration_ms": .stringConvertible((openedAt.duration(to: .now).seconds * 1e6).rounded() / 1e3),
            "close_code": "\(summary.closeCode.map(String.init) ?? "-")",
        ]
        if let settings = summary.settings {
            metadata["input"] = "\(settings.input.rawValue)"
            metadata["window"] = .stringConvertible(settings.window)
            metadata["stride"] = .stringConvertible(settings.stride)
        }
        if let id = context.requestID { metadata["request_id"] = "\(id)" }
        context.logger.info("stream", metadata: metadata)
    }

    // MARK: Messages

    private func handle(_ message: WebSocketMessage, arrived: ContinuousClock.Instant, _ state: inout State) throws(RequestError) -> Window? {
        switch message {
        case .binary(let bytes):
            guard state.phase == .streaming, let decoder = state.decoder else {
                throw RequestError("the first message must be {\"type\": \"start\", ...}, got a binary message")
            }
            return accept(try decoder.frames(fromBinary: bytes, first: state.frameCount), arrived: arrived, &state)
        case .text(let text):
            let value: JSONValue
            do { value = try JSONParser.parse(Array(text.utf8)) } catch { throw RequestError("malformed JSON: \(error.description)") }
            guard case .string(let type)? = value["type"] else {
                throw RequestError("a text message must be a JSON object with a \"type\" (start, frames, flush or stop)")
            }
            if state.phase == .awaitingStart {
                guard type == "start" else { throw RequestError("the first message must be {\"type\": \"start\", ...}, got \"\(type)\"") }
                try start(value, &state)
                return nil
            }
            guard let decoder = state.decoder else { return nil }
            switch type {
            case "frames":
                return accept(try decoder.frames(fromText: value["frames"], first: state.frameCount), arrived: arrived, &state)
            case "flush":
                if state.frameCount - 1 > state.lastScheduledEnd, let settings = state.settings {
                    let count = min(settings.window, state.frameCount)
                    let window = Window(start: state.frameCount - count, end: state.frameCount - 1,
                                        frames: Array(state.buffer.suffix(count)), lastFrameAt: arrived)
                    state.lastScheduledEnd = window.end
                    state.markers.append(.flushed)
                    return schedule(window, &state)
                }
                state.markers.append(.flushed)
                return runMarkersIfIdle(&state)
            case "stop":
                state.phase = .stopping
                state.markers.append(.end)
                return runMarkersIfIdle(&state)
            case "start":
                throw RequestError("the stream has already started: send \"start\" once, as the first message")
            default:
                throw RequestError("unknown message type \"\(type)\"; the types are start, frames, flush and stop")
            }
        }
    }

    private func start(_ value: JSONValue, _ state: inout State) throws(RequestError) {
        let loaded = context.loaded
        let settings = try StreamSettings.parse(value, config: loaded.config, clipFrames: loaded.preparation.frames,
                                                labels: loaded.labels, maxFrames: context.configuration.maxFrames,
                                                defaults: context.configuration.streamEvents)
        state.settings = settings
        state.decoder = StreamFrameDecoder(settings: settings, config: loaded.config)
        state.detector = SignEventDetector(settings: settings.events, labels: loaded.labels)
        state.buffer.reserveCapacity(settings.window)
        state.phase = .streaming
        var out = JSONWriter()
        out.raw("{\"type\":\"ready\",\"model\":")
        out.string(context.configuration.modelName)
        out.raw(",\"input\":\"\(settings.input.rawValue)\",\"window\":\(settings.window),\"stride\":\(settings.stride)")
        out.raw(",\"top_k\":\(settings.topK),\"clip_frames\":\(loaded.preparation.frames),\"labels\":[")
        for (i, label) in loaded.labels.enumerated() {
            if i > 0 { out.raw(",") }
            out.string(label)
        }
        out.raw("],\"events\":{\"threshold\":")
        out.number(settings.events.threshold)
        out.raw(",\"min_windows\":\(settings.events.minWindows),\"no_sign\":")
        if let noSign = settings.events.noSign { out.string(loaded.labels[noSign]) } else { out.raw("null") }
        out.raw("},\"max_buffered_frames\":\(settings.window)}")
        send(&state, out.bytes)
    }

    /// New frames: into the buffer, and every window that ends among them is scheduled (all but the last of
    /// several are skipped at once by the replacement rule).
    private func accept(_ frames: [JSONValue], arrived: ContinuousClock.Instant, _ state: inout State) -> Window? {
        guard let settings = state.settings else { return nil }
        context.metrics.streamFrames.increment(by: frames.count)
        var toRun: Window?
        for frame in frames {
            if state.buffer.count == settings.window { state.buffer.removeFirst() }
            state.buffer.append(frame)
            let index = state.frameCount
            state.frameCount += 1
            // Windows end at frames window-1, window-1+stride, ...
            guard index >= settings.window - 1, (index - (settings.window - 1)) % settings.stride == 0 else { continue }
            state.lastScheduledEnd = index
            let window = Window(start: index - settings.window + 1, end: index, frames: state.buffer, lastFrameAt: arrived)
            if let run = schedule(window, &state) { toRun = run }
        }
        return toRun
    }

    /// The window to start now, or nil when one is computing (the new one waits, replacing any waiting one).
    private func schedule(_ window: Window, _ state: inout State) -> Window? {
        guard state.computing else {
            state.computing = true
            return window
        }
        if state.waiting != nil { countSkipped(&state) }
        state.waiting = window
        return nil
    }

    /// A window that will not be computed: in the stream's totals, the next prediction's `skipped` and the metric.
    private func countSkipped(_ state: inout State) {
        state.skipped += 1
        state.skippedSinceLast += 1
        context.metrics.streamWindowsSkipped.increment()
    }

    // MARK: Windows

    private func run(_ window: Window) {
        Self.decodeQueue.async { [self] in
            let current = state.withLock { state in state.decoder.flatMap { d in state.settings.map { (decoder: d, topK: $0.topK) } } }
            guard let current else { return }
            let decoder = current.decoder, topK = current.topK
            let loaded = context.loaded, maxFrames = context.configuration.maxFrames
            context.core.infer(deadline: .now + context.configuration.requestTimeout,
                               cancellation: InferenceCancellation { [self] in gone.load(ordering: .relaxed) },
                               decode: { () throws(RequestError) in
                                   let request = try decoder.decodeWindow(window.frames, topK: topK, loaded: loaded, maxFrames: maxFrames)
                                   return (ClipBatch(values: request.clips, batch: request.batch), ())
                               }, completion: { [self] result in finished(window, result.map(\.0)) })
        }
    }

    private func finished(_ window: Window, _ result: Result<InferenceResult, InferenceFailure>) {
        let next: Window? = state.withLock { state -> Window? in
            state.computing = false
            guard state.phase != .closed, let settings = state.settings else { return nil }
            switch result {
            case .success(let inference):
                answer(window, logits: inference.logits, settings: settings, &state)
            case .failure(.invalidInput(let message)):
                fail(&state, code: WebSocketCloseCode.invalidData, "frames \(window.start)-\(window.end): \(message)")
                return nil
            case .failure(.overloaded), .failure(.timedOut):
                // The server is too busy for this window: it is skipped like a stale one.
                countSkipped(&state)
            case .failure(.cancelled):
                return nil
            case .failure(let failure):
                fail(&state, code: failure == .shuttingDown ? WebSocketCloseCode.goingAway : WebSocketCloseCode.internalError,
                     failure.message)
                return nil
            }
            if let waiting = state.waiting {
                state.waiting = nil
                state.computing = true
                return waiting
            }
            return runMarkersIfIdle(&state)
        }
        if let next { run(next) }
    }

    private func answer(_ window: Window, logits: [Float], settings: StreamSettings, _ state: inout State) {
        let classes = context.loaded.config.numClasses
        let prediction = Prediction(logits: logits[0..<classes], labels: context.loaded.labels, topK: settings.topK, includeLogits: false)
        var out = JSONWriter()
        out.raw("{\"type\":\"prediction\",\"start_frame\":\(window.start),\"end_frame\":\(window.end),\"predictions\":[")
        for (i, entry) in prediction.topK.enumerated() {
            if i > 0 { out.raw(",") }
            out.raw("{\"label\":")
            out.string(entry.label)
            out.raw(",\"index\":\(entry.classID),\"score\":")
            out.number(entry.score)
            out.raw("}")
        }
        let latency = window.lastFrameAt.duration(to: .now).seconds * 1000
        out.raw("],\"skipped\":\(state.skippedSinceLast),\"latency_ms\":")
        out.number((latency * 1000).rounded() / 1000)
        out.raw("}")
        send(&state, out.bytes)
        state.skippedSinceLast = 0
        state.windows += 1
        context.metrics.streamWindowsComputed.increment()
        // Every class's probability, as the detector needs them (the prediction holds only the top k).
        let maximum = logits[0..<classes].max() ?? 0
        let exps = logits[0..<classes].map { Foundation.exp(Double($0) - Double(maximum)) }
        let total = exps.reduce(0, +)
        let events = state.detector?.add(start: window.start, end: window.end, probabilities: exps.map { $0 / total }) ?? []
        sendEvents(events, &state)
    }

    private func sendEvents(_ events: [SignEvent], _ state: inout State) {
        for event in events {
            var out = JSONWriter()
            out.raw("{\"type\":\"event\",\"label\":")
            out.string(event.label)
            out.raw(",\"index\":\(event.index),\"start_frame\":\(event.startFrame),\"end_frame\":\(event.endFrame),\"score\":")
            out.number(event.score)
            out.raw("}")
            send(&state, out.bytes)
            state.events += 1
            context.metrics.streamEvents.increment()
        }
    }

    /// Once no window is computing or waiting: the markers, in order. A flush marker's window was scheduled
    /// before it, so `flushed` follows that window's prediction.
    private func runMarkersIfIdle(_ state: inout State) -> Window? {
        guard !state.computing, state.waiting == nil else { return nil }
        while !state.markers.isEmpty {
            switch state.markers.removeFirst() {
            case .flushed:
                send(&state, Array("{\"type\":\"flushed\"}".utf8))
            case .end:
                sendEvents(state.detector?.finish() ?? [], &state)
                send(&state, Array("{\"type\":\"end\",\"frames\":\(state.frameCount),\"windows\":\(state.windows),\"skipped\":\(state.skipped),\"events\":\(state.events)}".utf8))
                state.closeCode = WebSocketCloseCode.normal
                state.channel?.close(code: WebSocketCloseCode.normal)
                state.markers = []
            case .drained:
                sendEvents(state.detector?.finish() ?? [], &state)
                sendError(&state, code: WebSocketCloseCode.goingAway, "the server is shutting down")
                state.markers = []
            }
        }
        return nil
    }

    private func send(_ state: inout State, _ bytes: [UInt8]) {
        state.channel?.send(text: String(decoding: bytes, as: UTF8.self))
    }

    /// `{"type": "error"}` then the close with `code`.
    private func sendError(_ state: inout State, code: UInt16, _ message: String) {
        send(&state, Array("{\"type\":\"error\",\"error\":\(JSONWriter.quoted(message))}".utf8))
        state.closeCode = code
        state.channel?.close(code: code, reason: String(message.prefix(100)))
    }

    private func fail(_ state: inout State, code: UInt16, _ message: String) {
        sendError(&state, code: code, message)
        state.phase = .stopping
        state.markers = []
        state.waiting = nil
    }
}

/// The streams open on the server, against `--max-streams`.
final class StreamRegistry: Sendable {
    private let open = Mutex(0)

    /// Counts a new stream in; false (not counted) when `limit` are open already.
    func open(limit: Int) -> Bool {
        open.withLock { count in
            guard count < limit else { return false }
            count += 1
            return true
        }
    }

    func close() { open.withLock { $0 -= 1 } }
}
