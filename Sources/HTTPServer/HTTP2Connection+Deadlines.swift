import CNGHTTP2

/// The timeouts of an HTTP/2 connection, on its `HTTPConnection`'s single timer. Everything here
/// runs on the connection's queue.
extension HTTP2Connection {
    /// One deadline for the whole connection: the earliest of a stalled header block or body, a
    /// body slower than `maxBodyDuration`, a stalled write, or, with no stream open, the idle
    /// timeout. The header and body idle timeouts count from the last bytes the connection
    /// received, not per stream: a stream whose body waits behind others for the connection's
    /// flow-control window is not idle. The whole-body deadline is per stream, so a client cannot
    /// hold a stream's buffered body forever by trickling it.
    func scheduleDeadline() {
        let configuration = connection.configuration
        var due: ContinuousClock.Instant?
        func consider(_ instant: ContinuousClock.Instant) { due = min(due ?? instant, instant) }
        for stream in session.streams.values where stream.state == .receiving && stream.refusal == nil {
            consider(lastReceived + (stream.headersComplete ? configuration.bodyIdleTimeout : configuration.headerReadTimeout))
            if let bodyDue = bodyDeadline(stream) { consider(bodyDue) }
        }
        if outstandingBytes > 0 { consider(connection.stream.lastWriteProgress + configuration.writeTimeout) }
        for stream in session.streams.values where stream.state == .sending {
            consider(stream.lastActivity + configuration.writeTimeout)
        }
        // A body-streamed request: an idle timeout instead of the body's, and the write timeout for answers the
        // client's window holds back.
        for stream in session.streams.values where stream.state == .streaming {
            guard let bodyStream = stream.bodyStream, !bodyStream.finished || bodyStream.hasUnsent else { continue }
            if !bodyStream.finished { consider(bodyStream.lastActivity + configuration.bodyStreamIdleTimeout) }
            if bodyStream.hasUnsent { consider(bodyStream.waitingSince + configuration.writeTimeout) }
        }
        if session.streams.isEmpty { consider(lastActivity + configuration.keepAliveIdleTimeout) }
        if awaitingPreface { consider(lastReceived + configuration.headerReadTimeout) }
        if let due { connection.setDeadline(.http2, after: due - .now) }
    }

    func deadlineReached() {
        guard !isClosed else { return }
        let configuration = connection.configuration
        let now = ContinuousClock.now
        if awaitingPreface, now >= lastReceived + configuration.headerReadTimeout {
            logger.debug("no client preface after the 101: closing")
            connection.close()
            return
        }
        if outstandingBytes > 0, now >= connection.stream.lastWriteProgress + configuration.writeTimeout {
            logger.debug("write timeout: client is not reading")
            connection.close()
            return
        }
        for stream in session.streams.values where stream.state == .receiving && stream.refusal == nil {
            if !stream.headersComplete, now >= lastReceived + configuration.headerReadTimeout {
                // A header block cut off mid-way blocks the whole connection (CONTINUATION).
                logger.debug("header block stalled: closing")
                session.terminate(NGHTTP2_NO_ERROR)
            } else if stream.headersComplete, now >= lastReceived + configuration.bodyIdleTimeout {
                logger.debug("stream \(stream.id): body stalled")
                refuseSlowBody(stream, "request body stalled for \(configuration.bodyIdleTimeout)")
            } else if let bodyDue = bodyDeadline(stream), now >= bodyDue {
                logger.debug("stream \(stream.id): body took longer than \(configuration.maxBodyDuration)")
                refuseSlowBody(stream, "request body took longer than \(configuration.maxBodyDuration)")
            }
        }
        // A response the client's flow-control window holds back for too long: that stream is
        // cancelled, so a client cannot pin responses in memory by never sending WINDOW_UPDATE.
        for stream in session.streams.values where stream.state == .sending && now >= stream.lastActivity + configuration.writeTimeout {
            logger.debug("stream \(stream.id): response stalled by flow control")
            session.reset(stream.id, code: NGHTTP2_CANCEL)
        }
        for stream in session.streams.values where stream.state == .streaming {
            guard let bodyStream = stream.bodyStream else { continue }
            if bodyStream.hasUnsent, now >= bodyStream.waitingSince + configuration.writeTimeout {
                logger.debug("stream \(stream.id): streamed answer stalled by flow control")
                session.reset(stream.id, code: NGHTTP2_CANCEL)
            } else if !bodyStream.finished, now >= bodyStream.lastActivity + configuration.bodyStreamIdleTimeout {
                logger.debug("stream \(stream.id): body stream idle")
                bodyStream.lastActivity = now  // asked again after another timeout if the handler is still working
                bodyStream.handler.idle()
            }
        }
        if session.streams.isEmpty, now >= lastActivity + configuration.keepAliveIdleTimeout {
            logger.debug("HTTP/2 connection idle: GOAWAY")
            session.terminate(NGHTTP2_NO_ERROR)
        }
        flush()
    }

    private func bodyDeadline(_ stream: HTTP2Stream) -> ContinuousClock.Instant? {
        stream.headersCompletedAt.map { $0 + connection.configuration.maxBodyDuration }
    }

    /// 408 on that stream alone, then RST_STREAM for the rest of its upload; the others go on.
    private func refuseSlowBody(_ stream: HTTP2Stream, _ message: String) {
        let refusal = connection.responder.limitRefusal(.error(status: 408, message: message),
                                                        head: stream.request(remoteAddress: connection.remoteAddress))
        stream.refusal = refusal
        stream.resetAfterResponse = true
        session.respond(to: stream.id, with: refusal)
    }
}
