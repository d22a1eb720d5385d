"""The async API: one `Stream` per WebSocket connection to a signbert server (docs/STREAMING.md).

    async with await Stream.connect("http://localhost:8080") as stream:
        ready = await stream.start(image_width=1280, image_height=720)
        await stream.send_frames(frames)            # landmark dicts (JSON) ...
        await stream.send_binary(pack_binary(frames))  # ... or the binary form
        async for message in stream:                # prediction, event, flushed, end
            ...

Sending and receiving are independent: an app sends frames as its camera makes them and reads answers in
another task. `stream_recording` does both for a whole recording (real time, as fast as possible, or in
lockstep with the windows).
"""
import asyncio
import json
import time
import urllib.parse

import websockets
from websockets.asyncio.client import connect  # websockets 13 or later (the asyncio implementation)

SUBPROTOCOL = "signbert.stream.v1"

CLOSE_REASONS = {
    1001: "the server is draining (shutting down); reconnect to another instance or later",
    1007: "the server refused the data",
    1008: "the server refused the stream (policy)",
    1009: "a message was over the server's size limit",
    1011: "the server had an internal error",
    1013: "the server is overloaded (too many open streams); try again later",
}


class StreamError(Exception):
    """The server ended the stream with an error: `message` is its error text (or the close reason), `code` the
    WebSocket close code (None when the connection dropped without one)."""

    def __init__(self, message, code=None):
        super().__init__(f"{message} (close code {code})" if code else message)
        self.message, self.code = message, code


def stream_url(server, model=None):
    """ws:// URL of a model's stream from an http(s):// or ws(s):// server address: /v2/models/{model}/stream,
    or /stream (the default model) without a model. A URL that already has a path is kept as it is."""
    parts = urllib.parse.urlsplit(server if "://" in server else "http://" + server)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    path = parts.path.rstrip("/")
    if not path:
        path = f"/v2/models/{urllib.parse.quote(model, safe='')}/stream" if model else "/stream"
    return urllib.parse.urlunsplit((scheme, parts.netloc, path, parts.query, ""))


class Stream:
    def __init__(self, connection):
        self.connection = connection
        self.ready = None
        self._error = None

    @classmethod
    async def connect(cls, server, model=None, api_key=None, max_size=16 * 2**20):
        """Opens the WebSocket (offering signbert.stream.v1; the API key as a Bearer header). An HTTP refusal
        before the upgrade (401, 403, 404, 426) becomes a StreamError with the server's error text."""
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else None
        try:
            connection = await connect(stream_url(server, model), subprotocols=[SUBPROTOCOL],
                                                  additional_headers=headers, max_size=max_size,
                                                  open_timeout=10, ping_interval=20)
        except websockets.InvalidStatus as refusal:
            response = refusal.response
            try:
                text = json.loads(response.body.decode())["error"]
            except (ValueError, KeyError, TypeError, AttributeError):
                text = (response.body or b"").decode(errors="replace").strip() or response.reason_phrase
            raise StreamError(f"HTTP {response.status_code}: {text}") from None
        return cls(connection)

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.close()

    async def close(self):
        await self.connection.close()

    async def start(self, input="landmarks", image_width=None, image_height=None, window=None, stride=None,
                    top_k=None, events=None):
        """Sends `start` and waits for `ready` (returned as a dict; also kept as `self.ready`). Options left
        None take the server's defaults."""
        message = {"type": "start", "input": input}
        for key, value in (("image_width", image_width), ("image_height", image_height), ("window", window),
                           ("stride", stride), ("top_k", top_k), ("events", events)):
            if value is not None:
                message[key] = value
        await self.send_json(message)
        reply = await self.receive()
        if reply.get("type") != "ready":
            raise StreamError(f"expected ready, got {reply.get('type')}")
        self.ready = reply
        return reply

    async def send_json(self, message):
        await self._send(json.dumps(message, separators=(",", ":")))

    async def send_frames(self, frames):
        """Frames as one JSON `frames` message (landmark dicts, or feature rows for input "features")."""
        await self.send_json({"type": "frames", "frames": list(frames)})

    async def send_binary(self, data):
        """A whole number of frames of little-endian float32 (see sources.pack_binary)."""
        await self._send(bytes(data))

    async def flush(self):
        await self.send_json({"type": "flush"})

    async def stop(self):
        await self.send_json({"type": "stop"})

    async def _send(self, payload):
        try:
            await self.connection.send(payload)
        except websockets.ConnectionClosed as closed:
            raise self._closed_error(closed) from None

    async def receive(self):
        """The next server message as a dict. An `error` message or an unexpected close raises StreamError; a
        normal close (1000) after `end` raises StopAsyncIteration."""
        try:
            raw = await self.connection.recv()
        except websockets.ConnectionClosedOK:
            if self._error:
                raise self._error from None
            raise StopAsyncIteration from None
        except websockets.ConnectionClosed as closed:
            raise self._closed_error(closed) from None
        if isinstance(raw, bytes):
            raise StreamError("the server sent a binary message, which protocol v1 does not have")
        message = json.loads(raw)
        if message.get("type") == "error":
            # The close frame follows; keep the text to report with its code.
            try:
                await asyncio.wait_for(self.connection.wait_closed(), 5)
            except asyncio.TimeoutError:
                pass
            code = self.connection.protocol.close_code  # (websockets 13's connection has no close_code of its own)
            raise StreamError(message.get("error", "error"), code)
        return message

    def _closed_error(self, closed):
        frame = closed.rcvd
        code = frame.code if frame else None
        reason = (frame.reason if frame else "") or CLOSE_REASONS.get(code, "the connection closed")
        return StreamError(reason, code)

    def __aiter__(self):
        return self

    async def __anext__(self):
        return await self.receive()


def window_ends(total_frames, window, stride):
    """The frame indices (inclusive) at which the server computes a window: window-1, window-1+stride, ..."""
    return list(range(window - 1, total_frames, stride))


async def stream_recording(stream, recording, pace="realtime", fps=None, binary=False, chunk=None, on_message=None,
                           timeout=30.0):
    """Streams a whole Recording on a started stream, then flushes and stops, and returns every server message
    (predictions, events, flushed, end) in order. `on_message(message)` is called as each arrives.

    pace: "realtime" sends each frame at its time (fps: the recording's unless given), one frame per message,
    as a camera app would; "fast" sends `chunk` frames per message (default the stride) as fast as the
    socket takes them (the server may skip windows then: see "skipped"); "lockstep" sends up to the end of
    the next window and waits for that window's prediction, so no window is skipped and the results do not
    depend on timing (what the accuracy measurement uses)."""
    ready = stream.ready
    if ready is None:
        raise ValueError("start the stream first")
    frames = recording.frames
    messages = []
    window_done = asyncio.Condition()
    last_end_frame = -1

    async def receive_all():
        nonlocal last_end_frame
        try:
            async for message in stream:
                messages.append(message)
                if on_message:
                    on_message(message)
                if message.get("type") == "prediction":
                    async with window_done:
                        last_end_frame = max(last_end_frame, message["end_frame"])
                        window_done.notify_all()
                if message.get("type") == "end":
                    break
        finally:
            # Wake a lockstep sender also when the stream ended with an error.
            async with window_done:
                window_done.notify_all()

    async def send(batch):
        if binary:
            from .sources import pack_binary
            await stream.send_binary(pack_binary(batch))
        else:
            await stream.send_frames(batch)

    receiver = asyncio.create_task(receive_all())
    try:
        if pace == "realtime":
            rate = fps or recording.fps or 30.0
            t0 = time.monotonic()
            for i, frame in enumerate(frames):
                delay = t0 + i / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                await send([frame])
        elif pace == "fast":
            size = chunk or ready["stride"]
            for i in range(0, len(frames), size):
                await send(frames[i:i + size])
        elif pace == "lockstep":
            sent = 0
            for end in window_ends(len(frames), ready["window"], ready["stride"]):
                await send(frames[sent:end + 1])
                sent = end + 1
                async with window_done:
                    await asyncio.wait_for(window_done.wait_for(lambda: last_end_frame >= end or receiver.done()),
                                           timeout)
                if receiver.done():
                    break
            if sent < len(frames) and not receiver.done():
                await send(frames[sent:])
        else:
            raise ValueError(f"pace must be realtime, fast or lockstep, not {pace}")
        if not receiver.done():
            await stream.flush()
            await stream.stop()
        await asyncio.wait_for(receiver, timeout)
    finally:
        if not receiver.done():
            receiver.cancel()
    return messages
