import Dispatch
import Logging

/// Writing responses, closing, and the per-phase deadlines. Everything here runs on `queue`.
extension HTTPConnection {
    /// Encodes and queues `response`; what follows depends on `keepAlive`: the next request,
    /// or a lingering close.
    func writeResponse(_ response: HTTPResponse, info: RequestInfo, keepAlive: Bool, version: HTTPVersion? = nil) {
        let field: HTTPResponseEncoder.ConnectionField = keepAlive ? (version == .http1_0 ? .keepAlive : .none) : .close
        let (head, body) = encoder.encode(response, requestMethod: info.method, connection: field, date: HTTPDate.now())
        phase = .writing
        setDeadline(.write, after: configuration.writeTimeout)
        let done: (Bool) -> Void = { [self] written in
            responseWritten(written, response: response, bodyBytes: body.count, info: info, keepAlive: keepAlive)
        }
        // Small responses go out in one send; a large body is not copied behind its head.
        if body.count <= 16 * 1024 {
            stream.write(head + body, completion: done)
        } else {
            stream.write(head)
            stream.write(body, completion: done)
        }
    }

    /// Tells the server's observer (access log, metrics) what became of a request.
    func report(_ response: HTTPResponse, info: RequestInfo, bytesWritten: Int, completed: Bool) {
        onExchange?(HTTPExchange(
            request: info.head, requestLine: info.line, status: response.status,
            bytesWritten: bytesWritten, duration: .now - info.start,
            remoteAddress: remoteAddress, responseHeaders: response.headers,
            completed: completed, protocolVersion: info.version ?? .http1_1
        ))
    }

    private func responseWritten(_ written: Bool, response: HTTPResponse, bodyBytes: Int, info: RequestInfo, keepAlive: Bool) {
        report(response, info: info, bytesWritten: written ? bodyBytes : 0, completed: written)
        guard written, case .writing = phase else { return }  // the stream failed: closed already
        requestsServed += 1
        guard keepAlive else {
            lingerAndClose()
            return
        }
        phase = .awaitingRequest
        if readingPaused {
            readingPaused = false
            stream.resumeReading()
        }
        if decoder.bufferedByteCount > 0 {
            // A pipelined request is already here: parse it now.
            phase = .readingHead
            requestStart = .now
            setDeadline(.head, after: configuration.headerReadTimeout)
            process()
        } else if draining || peerClosed {
            close()
        } else {
            setDeadline(.keepAlive, after: configuration.keepAliveIdleTimeout)
        }
    }

    /// After a final response: send FIN but keep reading (and dropping) for a while, so that
    /// closing with unread input does not make the kernel reset the response away.
    func lingerAndClose() {
        guard !peerClosed else {
            close()
            return
        }
        phase = .lingering
        stream.shutdownWrite()
        if readingPaused {
            readingPaused = false
            stream.resumeReading()
        }
        setDeadline(.linger, after: configuration.lingerTimeout)
    }

    /// Closes the socket now (once); the server forgets the connection when the descriptor is
    /// closed.
    func close() {
        if case .closed = phase { return }
        if case .responding(let serial) = phase { orphanedSerial = serial }
        phase = .closed
        awaitedRequest?.cancel()
        awaitedRequest = nil
        releaseBody()
        http2?.connectionClosed()
        http2 = nil  // it holds this connection: break the cycle
        webSocket?.connectionClosed()
        webSocket = nil
        deadline = nil
        timer.cancel()
        let id = self.id, onClose = self.onClose
        stream.close { onClose(id) }
        logger.debug("connection closed after \(requestsServed) requests")
    }

    // MARK: Deadlines

    /// One timer per connection. Moving a deadline later only records it: the timer fires at
    /// the earlier time, sees the new deadline and re-arms (cheap for the body deadline, which
    /// moves on every read).
    func setDeadline(_ kind: DeadlineKind, after duration: Duration) {
        let at = ContinuousClock.now + duration
        deadline = (kind, at)
        if let firesAt = timerFiresAt, firesAt <= at { return }
        arm(at)
    }

    private func arm(_ at: ContinuousClock.Instant) {
        timerFiresAt = at
        timer.schedule(deadline: .now() + HTTPServer.dispatchInterval(at - .now), leeway: .milliseconds(5))
    }

    func timerFired() {
        timerFiresAt = nil
        guard let deadline else { return }
        var due = deadline.at
        if deadline.kind == .write {
            // The write deadline counts from the last progress, not from the first byte.
            due = stream.lastWriteProgress + configuration.writeTimeout
        }
        if ContinuousClock.now < due {
            arm(due)
            return
        }
        self.deadline = nil
        expired(deadline.kind)
    }

    private func expired(_ kind: DeadlineKind) {
        switch kind {
        case .firstRequest, .head:
            logger.debug("header read timeout")
            timedOut("request headers not received within \(configuration.headerReadTimeout)")
        case .body:
            logger.debug("body idle timeout")
            let total = bodyStartedAt.duration(to: .now) >= configuration.maxBodyDuration
            timedOut(total ? "request body took longer than \(configuration.maxBodyDuration)"
                           : "request body stalled for \(configuration.bodyIdleTimeout)")
        case .keepAlive:
            close()
        case .write:
            logger.debug("write timeout: client is not reading")
            close()
        case .linger:
            close()
        case .http2:
            http2?.deadlineReached()
        case .webSocket:
            webSocket?.deadlineReached()
        }
    }

    private func timedOut(_ message: String) {
        let info = RequestInfo(head: decoder.head, line: decoder.requestLine, start: requestStart)
        writeResponse(.error(status: 408, message: message), info: info, keepAlive: false)
    }
}
