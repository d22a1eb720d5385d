/// The hand-over of an HTTP/1.1 connection to a WebSocket (RFC 6455 §4.2.2), once the responder accepted the
/// handshake with `HTTPResponse.webSocket`. Runs on `queue`.
extension HTTPConnection {
    func startWebSocket(_ upgrade: WebSocketUpgrade, response: HTTPResponse, head: HTTPRequestHead, info: RequestInfo) {
        let request = HTTPRequest(head: head, body: [], remoteAddress: remoteAddress, receivedAt: requestStart)
        guard head.version == .http1_1, !peerClosed, WebSocketHandshake.refusal(request) == nil,
              let key = head.headers["Sec-WebSocket-Key"] else {
            // The responder accepted what is not a valid handshake: a bug, said as such.
            upgrade.handler.closed(code: nil)
            return writeResponse(.error(status: 500, message: "the WebSocket handshake was accepted for an invalid request"),
                                 info: info, keepAlive: false, version: head.version)
        }
        var lines = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        lines += "Sec-WebSocket-Accept: \(WebSocketHandshake.acceptValue(key: key))\r\n"
        if let subprotocol = upgrade.subprotocol { lines += "Sec-WebSocket-Protocol: \(subprotocol)\r\n" }
        // The responders' own fields (request id, CORS) go along; framing fields would be wrong on a 101.
        for field in response.headers where !["content-length", "content-type", "connection", "upgrade",
                                              "transfer-encoding"].contains(field.name.lowercased()) {
            lines += "\(field.name): \(field.value)\r\n"
        }
        if !configuration.serverName.isEmpty { lines += "Server: \(configuration.serverName)\r\n" }
        let connection = WebSocketConnection(connection: self, handler: upgrade.handler)
        webSocket = connection
        connection.open()
        stream.write(Array((lines + "\r\n").utf8))
        report(response, info: info, bytesWritten: 0, completed: true)
        requestsServed += 1
        phase = .webSocket
        deadline = nil
        if readingPaused {
            readingPaused = false
            stream.resumeReading()
        }
        connection.start(with: decoder.takeBufferedBytes())
        // A drain that began while the handshake was answered reaches the new WebSocket too.
        if draining { connection.beginDrain() }
    }
}
