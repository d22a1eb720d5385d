import CNGHTTP2

/// The C callbacks nghttp2 calls during `mem_recv` and `mem_send`. Each finds its session
/// through `user_data` and forwards to a method with Swift types; none captures anything
/// (C function pointers cannot).
extension HTTP2Session {
    static func from(_ userData: UnsafeMutableRawPointer?) -> HTTP2Session? {
        userData.map { Unmanaged<HTTP2Session>.fromOpaque($0).takeUnretainedValue() }
    }

    static func install(_ callbacks: OpaquePointer) {
        nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks) { _, frame, userData in
            guard let frame, let session = HTTP2Session.from(userData) else { return 0 }
            if frame.pointee.hd.type == UInt8(NGHTTP2_HEADERS.rawValue), frame.pointee.headers.cat == NGHTTP2_HCAT_REQUEST {
                session.beginHeaders(streamID: frame.pointee.hd.stream_id)
            }
            return 0
        }
        nghttp2_session_callbacks_set_on_header_callback(callbacks) { _, frame, name, nameLength, value, valueLength, _, userData in
            guard let frame, let name, let value, let session = HTTP2Session.from(userData) else { return 0 }
            if session.header(streamID: frame.pointee.hd.stream_id, name: UnsafeBufferPointer(start: name, count: nameLength),
                              value: UnsafeBufferPointer(start: value, count: valueLength)) {
                return 0
            }
            // nghttp2 resets the stream and skips the rest of its header block without decoding callbacks.
            guard session.headerListReset() else {
                session.calmDown = true
                return Int32(NGHTTP2_ERR_CALLBACK_FAILURE.rawValue)
            }
            return Int32(NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue)
        }
        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks) { _, frame, userData in
            guard let frame, let session = HTTP2Session.from(userData) else { return 0 }
            let header = frame.pointee.hd
            let endStream = header.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0
            switch UInt32(header.type) {
            case NGHTTP2_HEADERS.rawValue: session.headersReceived(streamID: header.stream_id, endStream: endStream)
            case NGHTTP2_DATA.rawValue: session.dataReceived(streamID: header.stream_id, endStream: endStream)
            default: break
            }
            return 0
        }
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks) { _, _, streamID, data, length, userData in
            guard let data, let session = HTTP2Session.from(userData) else { return 0 }
            session.dataChunk(streamID: streamID, UnsafeBufferPointer(start: data, count: length))
            return 0
        }
        nghttp2_session_callbacks_set_on_frame_send_callback(callbacks) { _, frame, userData in
            guard let frame, let session = HTTP2Session.from(userData) else { return 0 }
            let header = frame.pointee.hd
            let isMessage = UInt32(header.type) == NGHTTP2_HEADERS.rawValue || UInt32(header.type) == NGHTTP2_DATA.rawValue
            if isMessage, header.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0 {
                session.endStreamSent(streamID: header.stream_id)
            }
            return 0
        }
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks) { _, streamID, errorCode, userData in
            HTTP2Session.from(userData)?.streamClosed(streamID: streamID, errorCode: errorCode)
            return 0
        }
    }

    /// The data provider's read callback: copies the next part of a response body.
    static let readBody: nghttp2_data_source_read_callback = { _, streamID, buffer, length, flags, _, userData in
        guard let buffer, let flags, let session = HTTP2Session.from(userData) else {
            return Int(NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue)
        }
        guard let (count, end) = session.bodyBytes(streamID: streamID, into: UnsafeMutableRawBufferPointer(start: buffer, count: length)) else {
            // A body-streamed answer with nothing queued yet waits; any other miss resets the stream.
            return Int(session.streams[streamID]?.bodyStream?.deferred == true ? NGHTTP2_ERR_DEFERRED.rawValue
                       : NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue)
        }
        if end {
            flags.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue
            if session.submitTrailers(streamID: streamID) { flags.pointee |= NGHTTP2_DATA_FLAG_NO_END_STREAM.rawValue }
        }
        return count
    }
}
