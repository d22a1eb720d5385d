/// An incremental HTTP/1.1 request parser: bytes in, events out. Pure (no I/O, no clock), so it
/// can be fed bytes split at any point, in tests and fuzzers alike.
///
/// Call `append(_:)` with whatever arrived, then `next()` until it returns nil (needs more
/// bytes). It yields `.head` once the header section is complete and `.request` once the body
/// is; the bytes that follow stay buffered until `next()` is called again, which is how a
/// connection answers pipelined requests one at a time. After an error every call rethrows it.
public struct HTTPRequestDecoder: Sendable {
    public struct Limits: Sendable {
        /// Request line plus header section, line endings included.
        public var maxHeaderBytes: Int
        public var maxHeaderCount: Int
        /// The decoded body (after de-chunking).
        public var maxBodyBytes: Int

        public init(maxHeaderBytes: Int = 16 * 1024, maxHeaderCount: Int = 100, maxBodyBytes: Int = 32 * 1024 * 1024) {
            self.maxHeaderBytes = maxHeaderBytes
            self.maxHeaderCount = maxHeaderCount
            self.maxBodyBytes = maxBodyBytes
        }
    }

    public enum Event: Sendable {
        /// The header section is complete; the body (if any) follows.
        case head(HTTPRequestHead)
        /// The request is complete.
        case request(HTTPRequestHead, body: [UInt8])
    }

    /// The parsed request line, once known, for reporting a request that failed later.
    public struct RequestLine: Sendable, Equatable {
        public var method: String
        public var target: String
        public var version: HTTPVersion
    }

    enum State: Sendable {
        case requestLine
        case fields(RequestLine)
        case fixedBody(HTTPRequestHead, remaining: Int)
        case chunkSize(HTTPRequestHead)
        case chunkData(HTTPRequestHead, remaining: Int)
        case chunkDataEnd(HTTPRequestHead)
        case trailers(HTTPRequestHead)
        case failed(HTTPDecodingError)
    }

    public let limits: Limits
    var state: State = .requestLine
    var buffer: [UInt8] = []
    var readIndex = 0
    /// Where the search for the next LF resumes, so byte-by-byte input is not rescanned.
    var scanIndex = 0
    /// Bytes of the current header (or trailer) section consumed so far.
    var sectionBytes = 0
    var fields = HTTPHeaders()
    var body: [UInt8] = []
    /// The request line of the request being decoded.
    public private(set) var requestLine: RequestLine?
    /// The head of the request being decoded, once complete.
    public private(set) var head: HTTPRequestHead?

    static let maxChunkLineBytes = 4096

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Bytes received and not yet consumed.
    public var bufferedByteCount: Int { buffer.count - readIndex }

    /// Removes and returns the bytes received and not consumed: what follows a request after
    /// which the connection changes protocol.
    public mutating func takeBufferedBytes() -> [UInt8] {
        let rest = Array(buffer[readIndex...])
        buffer.removeAll()
        readIndex = 0
        scanIndex = 0
        return rest
    }

    /// The bytes received and not consumed yet.
    public var bufferedBytes: ArraySlice<UInt8> { buffer[readIndex...] }

    /// True between requests: nothing of the next request has been consumed yet.
    public var isAtRequestBoundary: Bool {
        if case .requestLine = state { return sectionBytes == 0 }
        return false
    }

    public mutating func append(_ bytes: some Sequence<UInt8>) {
        buffer.append(contentsOf: bytes)
    }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        buffer.append(contentsOf: bytes)
    }

    /// The next event, or nil when more bytes are needed.
    public mutating func next() throws(HTTPDecodingError) -> Event? {
        if case .failed(let error) = state { throw error }
        do {
            let event = try step()
            compact()
            return event
        } catch {
            state = .failed(error)
            throw error
        }
    }

    private mutating func step() throws(HTTPDecodingError) -> Event? {
        while true {
            switch state {
            case .failed(let error):
                throw error
            case .requestLine:
                if isAtRequestBoundary { requestLine = nil; head = nil }
                guard let line = try nextLine(limit: limits.maxHeaderBytes - sectionBytes, countsTowardSection: true) else { return nil }
                // RFC 9112 §2.2: ignore empty lines received before the request-line.
                if line.isEmpty { continue }
                let parsed = try Self.parseRequestLine(line)
                requestLine = parsed
                state = .fields(parsed)
            case .fields(let line):
                guard let text = try nextLine(limit: limits.maxHeaderBytes - sectionBytes, countsTowardSection: true) else { return nil }
                if !text.isEmpty {
                    try addField(text, limit: limits.maxHeaderCount, section: "header")
                    continue
                }
                var head = try Self.makeHead(line, fields: fields)
                self.head = head  // kept for the error report if the framing is refused
                head.framing = try Self.framing(fields, version: head.version, limits: limits)
                if !head.hasBody { head.expectsContinue = false }
                self.head = head
                fields = HTTPHeaders()
                sectionBytes = 0
                switch head.framing {
                case .none, .length(0): state = .fixedBody(head, remaining: 0)
                case .length(let count): state = .fixedBody(head, remaining: count)
                case .chunked: state = .chunkSize(head)
                }
                return .head(head)
            case .fixedBody(let head, let remaining):
                let take = min(remaining, bufferedByteCount)
                body.append(contentsOf: buffer[readIndex..<(readIndex + take)])
                readIndex += take
                if remaining - take > 0 {
                    state = .fixedBody(head, remaining: remaining - take)
                    return nil
                }
                return finish(head)
            case .chunkSize(let head):
                // RFC 9112 §7.1: chunk-size [ chunk-ext ] CRLF; the line is bounded so a peer
                // cannot stream an endless extension.
                guard let line = try nextLine(limit: Self.maxChunkLineBytes, countsTowardSection: false, crlfOnly: true) else { return nil }
                let size = try Self.parseChunkSize(line, budget: limits.maxBodyBytes - body.count, limit: limits.maxBodyBytes)
                state = size == 0 ? .trailers(head) : .chunkData(head, remaining: size)
            case .chunkData(let head, let remaining):
                let take = min(remaining, bufferedByteCount)
                body.append(contentsOf: buffer[readIndex..<(readIndex + take)])
                readIndex += take
                if remaining - take > 0 {
                    state = .chunkData(head, remaining: remaining - take)
                    return nil
                }
                state = .chunkDataEnd(head)
            case .chunkDataEnd(let head):
                // RFC 9112 §7.1: chunk-data is followed by CRLF and nothing else (a bare LF too is refused:
                // the leniency of §2.2 covers the start line and fields, not the chunked framing).
                guard bufferedByteCount > 0 else { return nil }
                guard buffer[readIndex] == 0x0D else { throw .badRequest("missing CRLF after chunk data") }
                guard bufferedByteCount > 1 else { return nil }
                guard buffer[readIndex + 1] == 0x0A else { throw .badRequest("missing CRLF after chunk data") }
                readIndex += 2
                scanIndex = readIndex
                state = .chunkSize(head)
            case .trailers(let head):
                // RFC 9112 §7.1.2: a trailer section may follow the last chunk; it is read under
                // the header limits and dropped (nothing here needs trailer fields).
                guard let line = try nextLine(limit: limits.maxHeaderBytes - sectionBytes, countsTowardSection: true) else { return nil }
                if !line.isEmpty {
                    try addField(line, limit: limits.maxHeaderCount, section: "trailer")
                    continue
                }
                fields = HTTPHeaders()
                return finish(head)
            }
        }
    }

    private mutating func finish(_ head: HTTPRequestHead) -> Event {
        let event = Event.request(head, body: body)
        body = []
        sectionBytes = 0
        state = .requestLine
        return event
    }

    private mutating func addField(_ line: ArraySlice<UInt8>, limit: Int, section: String) throws(HTTPDecodingError) {
        let (name, value) = try Self.parseField(line)
        fields.add(name: name, value: value)
        guard fields.count <= limit else {
            throw .headersTooLarge("more than \(limit) \(section) fields")
        }
    }

    /// The next line without its line ending (CRLF, or a bare LF: RFC 9112 §2.2 lets a
    /// recipient accept LF alone in the start line and fields; `crlfOnly` for the chunked framing, which
    /// must end in CRLF), or nil until one is complete. Throws once the line would exceed `limit` bytes.
    private mutating func nextLine(limit: Int, countsTowardSection: Bool, crlfOnly: Bool = false) throws(HTTPDecodingError) -> ArraySlice<UInt8>? {
        let start = max(scanIndex, readIndex)
        guard let lf = buffer[start...].firstIndex(of: 0x0A) else {
            scanIndex = buffer.count
            if buffer.count - readIndex > limit { throw limitError(countsTowardSection) }
            return nil
        }
        let consumed = lf + 1 - readIndex
        guard consumed <= limit else { throw limitError(countsTowardSection) }
        var end = lf
        if end > readIndex, buffer[end - 1] == 0x0D { end -= 1 } else if crlfOnly { throw .badRequest("chunk size line not ended by CRLF") }
        let line = buffer[readIndex..<end]
        readIndex = lf + 1
        scanIndex = readIndex
        if countsTowardSection { sectionBytes += consumed }
        return line
    }

    private func limitError(_ section: Bool) -> HTTPDecodingError {
        if !section { return .badRequest("chunk size line too long") }
        if case .trailers = state { return .headersTooLarge("trailer section exceeds \(limits.maxHeaderBytes) bytes") }
        return .headersTooLarge("request line and headers exceed \(limits.maxHeaderBytes) bytes")
    }

    /// Drops consumed bytes once they are the bigger part of the buffer (amortised O(n)).
    private mutating func compact() {
        if readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= 4 * 1024)  // idle connections stay small
        } else if readIndex >= 16 * 1024, readIndex * 2 >= buffer.count {
            buffer.removeFirst(readIndex)
        } else {
            return
        }
        scanIndex = max(0, scanIndex - readIndex)
        readIndex = 0
    }
}
