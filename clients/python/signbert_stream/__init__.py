"""signbert_stream: a client for signbert's live recognition streams (WebSocket, protocol signbert.stream.v1).

Standard library plus the `websockets` package. See the repository README, section "Live recognition".
"""
from .client import Stream, StreamError, stream_recording, stream_url, window_ends
from .sources import Recording, Segment, SourceError, pack_binary, read_file, read_landmark_json, read_pose, synthetic

__all__ = ["Stream", "StreamError", "stream_recording", "stream_url", "window_ends", "Recording", "Segment",
           "SourceError", "pack_binary", "read_file", "read_landmark_json", "read_pose", "synthetic"]
