/// The server's half of the opening handshake (RFC 6455 §4.2): which requests are valid upgrades, the
/// `Sec-WebSocket-Accept` value, and the response a responder returns to accept one.
public enum WebSocketHandshake {
    /// §1.3: appended to the client's key before hashing.
    static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key`: base64(SHA-1(key + GUID)).
    public static func acceptValue(key: String) -> String {
        Base64.encode(SHA1.digest(Array((key + guid).utf8)))
    }

    /// Whether the request asks to become a WebSocket at all (`Upgrade: websocket`), valid or not.
    public static func isUpgradeRequest(_ request: HTTPRequest) -> Bool {
        request.headers.tokens("Upgrade").contains("websocket")
    }

    /// The subprotocols the client offers, in its order (§4.1: comma-separated, possibly over several fields).
    public static func offeredProtocols(_ request: HTTPRequest) -> [String] {
        request.headers.values("Sec-WebSocket-Protocol").flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: " \t") }.filter { !$0.isEmpty }
    }

    /// nil when `request` is a valid opening handshake (§4.2.1); otherwise the refusal: 426 without
    /// `Upgrade: websocket` (a plain GET), 426 with `Sec-WebSocket-Version: 13` for another version, 400 for the rest.
    public static func refusal(_ request: HTTPRequest) -> HTTPResponse? {
        guard isUpgradeRequest(request) else {
            var response = HTTPResponse.error(status: 426, message: "this is a WebSocket endpoint: send GET with Upgrade: websocket (RFC 6455)")
            response.headers.replace(name: "Upgrade", value: "websocket")
            return response
        }
        guard request.method == "GET", request.version == .http1_1 else {
            return .error(status: 400, message: "a WebSocket handshake is a GET over HTTP/1.1")
        }
        guard request.headers.tokens("Connection").contains("upgrade") else {
            return .error(status: 400, message: "a WebSocket handshake needs Connection: Upgrade")
        }
        guard request.headers["Sec-WebSocket-Version"]?.trimmingCharacters(in: " \t") == "13" else {
            var response = HTTPResponse.error(status: 426, message: "Sec-WebSocket-Version must be 13")
            response.headers.replace(name: "Sec-WebSocket-Version", value: "13")
            return response
        }
        guard let key = request.headers.values("Sec-WebSocket-Key").only, Base64.decodedCount(key) == 16 else {
            return .error(status: 400, message: "Sec-WebSocket-Key must be one base64 value of 16 bytes")
        }
        guard request.body.isEmpty else { return .error(status: 400, message: "a WebSocket handshake has no body") }
        return nil
    }
}

private extension String {
    func trimmingCharacters(in set: String) -> String {
        let skip = Set(set.utf8)
        let bytes = Array(utf8)
        guard let start = bytes.firstIndex(where: { !skip.contains($0) }),
              let end = bytes.lastIndex(where: { !skip.contains($0) }) else { return "" }
        return String(decoding: bytes[start...end], as: UTF8.self)
    }
}

private extension Substring {
    func trimmingCharacters(in set: String) -> String { String(self).trimmingCharacters(in: set) }
}

/// A responder's acceptance of a WebSocket handshake: the server writes the 101 (with these headers and
/// `Sec-WebSocket-Protocol` when `subprotocol` is set), then hands the socket to a WebSocket connection that
/// drives `handler`.
public struct WebSocketUpgrade: Sendable {
    public var subprotocol: String?
    public var handler: any WebSocketHandler

    public init(subprotocol: String?, handler: any WebSocketHandler) {
        self.subprotocol = subprotocol
        self.handler = handler
    }
}

extension HTTPResponse {
    /// 101 Switching Protocols for a request `WebSocketHandshake.refusal` accepted. Only an HTTP/1.1 connection
    /// acts on it; anywhere else it is answered 500.
    public static func webSocket(_ upgrade: WebSocketUpgrade) -> HTTPResponse {
        var response = HTTPResponse(status: 101)
        response.webSocket = upgrade
        return response
    }
}

/// A whole message from the client.
public enum WebSocketMessage: Sendable, Equatable {
    case text(String)
    case binary([UInt8])
}

/// The application side of one WebSocket connection. Every call comes on the connection's serial queue, in order;
/// keep them quick (heavy work goes elsewhere and answers through the channel).
public protocol WebSocketHandler: Sendable {
    /// The handshake is accepted and its 101 goes out next: a client that has read its 101 was counted here
    /// before any client that connects after it. `channel` sends from any thread; what it sends follows the 101.
    func opened(_ channel: WebSocketChannel)
    func received(_ message: WebSocketMessage)
    /// The server drains: finish what is pending, then `channel.close(code: 1001, ...)` (the drain timeout closes
    /// the socket anyway).
    func drain()
    /// The connection is gone (called once): `code` is the close code received or sent, nil if the socket just
    /// ended.
    func closed(code: UInt16?)
}
