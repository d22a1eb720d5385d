/// Where to listen and every limit the server enforces. Each limit has its own answer:
/// headers → 431, body → 413, header or body timeout → 408, too many connections → 503.
public struct HTTPServerConfiguration: Sendable {
    /// An IPv4 or IPv6 address or a host name, e.g. "0.0.0.0", "127.0.0.1", "::".
    public var host: String
    /// 0 lets the kernel choose; `HTTPServer.port` tells which.
    public var port: Int
    /// Request line plus header section (and, separately, a chunked body's trailer section).
    public var maxHeaderBytes: Int
    public var maxHeaderCount: Int
    /// Decoded body size; checked from Content-Length before reading, and while de-chunking.
    public var maxBodyBytes: Int
    /// From the first byte of a request to the end of its headers; also how long a new
    /// connection may stay silent. Expiry → 408 and close.
    public var headerReadTimeout: Duration
    /// Longest wait for the next body byte. Expiry → 408 and close.
    public var bodyIdleTimeout: Duration
    /// Longest time a whole body may take from the end of its headers, however steadily it trickles in
    /// (a client sending a byte every few seconds would otherwise hold its connection forever). Expiry → 408.
    public var maxBodyDuration: Duration
    /// Longest silence between requests on a kept-alive connection. Expiry → silent close.
    public var keepAliveIdleTimeout: Duration
    /// Longest time a response may make no progress (a client that does not read). Expiry → close.
    public var writeTimeout: Duration
    /// Connections served at once; the next one gets a 503 and is closed.
    public var maxConnections: Int
    /// The `Server` header; empty for none.
    public var serverName: String
    public var backlog: Int
    /// After a final response on a connection that is closing, how long the server keeps
    /// reading (and discarding) so that its close does not reset the response in flight.
    public var lingerTimeout: Duration
    /// Whether a connection may speak HTTP/2 in cleartext: the prior-knowledge preface as its
    /// first bytes, or `Upgrade: h2c` on an HTTP/1.1 request.
    public var http2Enabled: Bool
    /// SETTINGS_MAX_CONCURRENT_STREAMS: requests in flight on one HTTP/2 connection. The
    /// other HTTP/2 limits are the ones above, per stream (header bytes and count → 431, body
    /// → 413, timeouts → 408 or GOAWAY); flow-control windows are as large as `maxBodyBytes`.
    public var http2MaxConcurrentStreams: Int
    /// Request bodies held at once, all connections and streams together (`RequestBodyBudget`);
    /// a body that does not fit → 503 with Retry-After.
    public var maxBufferedBodyBytes: Int
    /// A WebSocket frame's payload at most (larger: close 1009, checked from the frame header).
    public var webSocketMaxFrameBytes: Int
    /// A WebSocket message at most, its fragments together (larger: close 1009).
    public var webSocketMaxMessageBytes: Int
    /// Longest a WebSocket may go without a frame from the client (close 1001).
    public var webSocketIdleTimeout: Duration
    /// An HTTP/2 request whose body goes to its handler as it arrives (`HTTPResponder.bodyStreamHandler`, gRPC's
    /// ModelStreamInfer): the longest it may go with no byte in either direction; the handler then ends it. Such a
    /// stream has no `bodyIdleTimeout` or `maxBodyDuration`: it may stay open as long as it is used.
    public var bodyStreamIdleTimeout: Duration = .seconds(120)

    public init(
        host: String = "0.0.0.0",
        port: Int = 8080,
        maxHeaderBytes: Int = 16 * 1024,
        maxHeaderCount: Int = 100,
        maxBodyBytes: Int = 32 * 1024 * 1024,
        headerReadTimeout: Duration = .seconds(10),
        bodyIdleTimeout: Duration = .seconds(10),
        maxBodyDuration: Duration = .seconds(60),
        keepAliveIdleTimeout: Duration = .seconds(5),
        writeTimeout: Duration = .seconds(30),
        maxConnections: Int = 1024,
        serverName: String = "signbert",
        backlog: Int = 512,
        lingerTimeout: Duration = .seconds(2),
        http2Enabled: Bool = true,
        http2MaxConcurrentStreams: Int = 100,
        maxBufferedBodyBytes: Int = 1024 * 1024 * 1024,
        webSocketMaxFrameBytes: Int = 1024 * 1024,
        webSocketMaxMessageBytes: Int = 1024 * 1024,
        webSocketIdleTimeout: Duration = .seconds(60)
    ) {
        self.host = host
        self.port = port
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderCount = maxHeaderCount
        self.maxBodyBytes = maxBodyBytes
        self.headerReadTimeout = headerReadTimeout
        self.bodyIdleTimeout = bodyIdleTimeout
        self.maxBodyDuration = maxBodyDuration
        self.keepAliveIdleTimeout = keepAliveIdleTimeout
        self.writeTimeout = writeTimeout
        self.maxConnections = maxConnections
        self.serverName = serverName
        self.backlog = backlog
        self.lingerTimeout = lingerTimeout
        self.http2Enabled = http2Enabled
        self.http2MaxConcurrentStreams = http2MaxConcurrentStreams
        self.maxBufferedBodyBytes = maxBufferedBodyBytes
        self.webSocketMaxFrameBytes = webSocketMaxFrameBytes
        self.webSocketMaxMessageBytes = webSocketMaxMessageBytes
        self.webSocketIdleTimeout = webSocketIdleTimeout
    }

    var decoderLimits: HTTPRequestDecoder.Limits {
        HTTPRequestDecoder.Limits(maxHeaderBytes: maxHeaderBytes, maxHeaderCount: maxHeaderCount, maxBodyBytes: maxBodyBytes)
    }
}
