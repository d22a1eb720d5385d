#!/usr/bin/env python3
"""Seed corpora for the fuzz targets (FuzzTesting/), derived from the test fixtures and examples/.

    python3 tools/fuzz_seeds.py OUT_DIR

writes OUT_DIR/<Target>/<name> for every target: small valid inputs (so the fuzzer starts from inputs
that get past the first checks) and a few hand-written edge cases. Standard library only, deterministic;
the outputs are not committed (they are rebuilt on every `tools/fuzz.sh` run).

Targets that read control bytes first (FuzzHTTPRequest, FuzzHTTPChunked, FuzzOpenInference) get them here,
in the layout their main.swift documents.
"""
import io
import json
import pickle
import struct
import sys
import zipfile
from pathlib import Path

from signbert_tools.protowire import field, grpc_frame, varint

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "Tests/SignBERTRuntimeTests/Fixtures"
EXAMPLES = ROOT / "examples"
# FuzzConfig.model in FuzzTesting/Sources/FuzzSupport/FuzzConfig.swift: 27 joints x 3 coords, 8 frames.
FRAMES, JOINTS, COORDS = 8, 27, 3
# Larger fixtures would only slow the fuzzer down (libFuzzer's max_len follows the corpus).
MAX_SEED_BYTES = 40_000


def write(out, target, name, data):
    if isinstance(data, str):
        data = data.encode()
    if len(data) > MAX_SEED_BYTES:
        return
    folder = out / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def compact(value):
    return json.dumps(value, separators=(",", ":"))


def example_clip(name, frames=FRAMES):
    """The first `frames` frames of an example clip ([T][27][3])."""
    body = json.loads((EXAMPLES / name).read_text())
    return body["inputs"][0][:frames]


def holistic_clip(frames=2):
    body = json.loads((EXAMPLES / "holistic-request.json").read_text())
    clip = body["inputs"][0]
    clip["frames"] = clip["frames"][:frames]
    return clip


# HTTP: one control byte for the limits (odd: the server's defaults, even: small), then a split plan
# (count byte % 8, then that many piece sizes - 1).
HTTP_DEFAULT_LIMITS = bytes([1, 2, 7, 64])
HTTP_SMALL_LIMITS = bytes([0, 3, 0, 15, 200])

HTTP_REQUESTS = {
    "get": "GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n",
    "get-query": "GET /v2/models/signbert?x=1&y=%20z HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n",
    "post-length": 'POST /predict?top_k=3 HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n'
                   'Content-Length: 13\r\n\r\n{"inputs":[]}',
    "post-chunked": "POST /predict HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "4;ext=v\r\n{\"in\r\n9\r\nputs\":[]}\r\n0\r\nX-Trailer: 1\r\n\r\n",
    "pipelined": "GET / HTTP/1.1\r\nHost: a\r\n\r\nPOST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi"
                 "GET /y HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
    "http10": "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    "expect": "PUT /u HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
    "length-list": "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4, 4\r\n\r\nabcd",
    "bare-lf": "\r\nGET /lf HTTP/1.1\nHost: a\nX-Empty:\n\n",
    "absolute": "OPTIONS http://host:8080/p?q HTTP/1.1\r\nHost: host:8080\r\n\r\n",
}

# Chunked: the same control bytes, then only the body (FuzzHTTPChunked adds a chunked head).
CHUNKED_BODIES = {
    "one": "5\r\nhello\r\n0\r\n\r\n",
    "two-ext": "3;name=value\r\nabc\r\nA ; x\r\n0123456789\r\n0\r\n\r\n",
    "trailers": "1\r\nx\r\n0\r\nExpires: never\r\nX-Sum: 1\r\n\r\n",
    "bare-lf": "2\nab\n0\n\n",
    "upper-hex": "000F\r\n0123456789ABCDE\r\n0\r\n\r\n",
    "pipelined": "1\r\na\r\n0\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n",
}


def http_seeds(out):
    for name, text in HTTP_REQUESTS.items():
        write(out, "FuzzHTTPRequest", name, HTTP_DEFAULT_LIMITS + text.encode())
        write(out, "FuzzHTTPRequest", name + "-small", HTTP_SMALL_LIMITS + text.encode())
    body = compact({"inputs": [example_clip("wave.json", 2)]})
    write(out, "FuzzHTTPRequest", "predict-wave", HTTP_DEFAULT_LIMITS + (
        f"POST /predict HTTP/1.1\r\nHost: a\r\nContent-Length: {len(body)}\r\n\r\n{body}").encode())
    for name, text in CHUNKED_BODIES.items():
        write(out, "FuzzHTTPChunked", name, HTTP_DEFAULT_LIMITS + text.encode())
        write(out, "FuzzHTTPChunked", name + "-small", HTTP_SMALL_LIMITS + text.encode())


def json_seeds(out):
    documents = {
        "scalars": '[null,true,false,0,-0,1.5e3,-2E-7,123456789012345678901234567890]',
        "strings": '{"a":"\\u00e9\\ud83d\\ude00\\n\\"\\\\\\/","":"","k":"\u00fc"}',
        "tensor": '[[[1,2],[3,4]],[[5,6],[7,8]]]',
        "ragged": '[[1,2],[3],[]]',
        "mixed": '[[1,"a"],{"b":[[]]}]',
        "nested": '{"a":{"b":{"c":[[[[0]]]]}}}',
        "duplicate": '{"k":1,"k":2}',
    }
    for name, text in documents.items():
        write(out, "FuzzJSONParser", name, text)
    write(out, "FuzzJSONParser", "holistic", compact({"inputs": [holistic_clip(1)]}))
    write(out, "FuzzJSONParser", "clip", compact(example_clip("circle.json", 2)))


def predict_seeds(out):
    clip = example_clip("wave.json")
    flat = [[value for joint in frame for value in joint] for frame in example_clip("push.json")]
    bodies = {
        "exact": {"inputs": [clip], "frames": "exact"},
        "options": {"inputs": [clip], "top_k": 3, "return_logits": True},
        "flat": {"inputs": [flat]},
        "sampled": {"inputs": [example_clip("circle.json", 20)], "frames": "sample"},
        "batch": {"inputs": [clip, example_clip("gestures/tap.json", 3)]},
        "holistic": {"inputs": [holistic_clip(2)]},
        "holistic-objects": {"inputs": [{"image_width": 640, "image_height": 480, "frames": [
            {"pose": [{"x": 0.5, "y": 0.5, "z": 0, "visibility": 0.9}] * 33,
             "left_hand": [[0.4, 0.6, 0.0]] * 21, "right_hand": None, "face": []}]}]},
    }
    for name, body in bodies.items():
        write(out, "FuzzPredictJSON", name, compact(body))


def open_inference_seeds(out):
    # Control byte 0: no Inference-Header-Content-Length; 2: the next two bytes (little-endian) are its value.
    clip = example_clip("wave.json")
    values = [value for frame in clip for joint in frame for value in joint]
    tensor = {"name": "keypoints", "datatype": "FP32", "shape": [1, FRAMES, JOINTS, COORDS], "data": values}
    json_bodies = {
        "json": {"inputs": [tensor]},
        "json-outputs": {"id": "r1", "inputs": [dict(tensor, shape=[1, FRAMES, JOINTS * COORDS])],
                         "outputs": [{"name": "probabilities"}, {"name": "logits", "parameters": {"binary_data": True}}],
                         "parameters": {"frames": "exact", "binary_data_output": False}},
        "json-fp16": {"inputs": [dict(tensor, datatype="FP16", data=[clip[:2]], shape=[1, 2, JOINTS, COORDS])]},
    }
    for name, body in json_bodies.items():
        write(out, "FuzzOpenInference", name, b"\x00" + compact(body).encode())
    for datatype, fmt in (("FP32", "<f"), ("FP16", "<e"), ("FP64", "<d")):
        count = 2 * JOINTS * COORDS
        raw = b"".join(struct.pack(fmt, v) for v in values[:count])
        header = compact({"inputs": [{"name": "keypoints", "datatype": datatype, "shape": [1, 2, JOINTS, COORDS],
                                      "parameters": {"binary_data_size": len(raw)}}],
                          "outputs": [{"name": "logits", "parameters": {"binary_data": True}}]}).encode()
        write(out, "FuzzOpenInference", "binary-" + datatype.lower(),
              b"\x02" + struct.pack("<H", len(header)) + header + raw)


def grpc_seeds(out):
    # FuzzGRPCFraming: control byte % 5 picks grpc-encoding (0 none, 2 gzip), bit 7 a 300-byte message limit.
    import gzip
    clip = example_clip("wave.json")
    values = [value for frame in clip for joint in frame for value in joint][:2 * JOINTS * COORDS]
    shape = field(3, b"".join(varint(d) for d in (1, 2, JOINTS, COORDS)))
    contents = field(5, field(6, b"".join(struct.pack("<f", v) for v in values)))
    fp32 = field(1, "signbert") + field(5, field(1, "keypoints") + field(2, "FP32") + shape + contents)
    raw16 = (field(1, "signbert") + field(5, field(1, "keypoints") + field(2, "FP16") + shape)
             + field(6, field(1, "logits")) + field(7, b"".join(struct.pack("<e", v) for v in values)))
    write(out, "FuzzGRPCFraming", "infer-fp32", b"\x00" + grpc_frame(fp32))
    write(out, "FuzzGRPCFraming", "infer-fp16-raw", b"\x00" + grpc_frame(raw16))
    write(out, "FuzzGRPCFraming", "stream-two", b"\x00" + grpc_frame(fp32) + grpc_frame(raw16))
    write(out, "FuzzGRPCFraming", "infer-gzip", b"\x02" + grpc_frame(gzip.compress(fp32, mtime=0), compressed=True))
    write(out, "FuzzGRPCFraming", "empty-message", b"\x00" + grpc_frame(b""))
    write(out, "FuzzGRPCFraming", "truncated", b"\x00" + grpc_frame(fp32)[:40])
    write(out, "FuzzGRPCFraming", "over-limit", b"\x80" + grpc_frame(fp32))


def pose_file(version, frames, points=lambda f, i: (100.0 + i + f, 200.0, 0.5)):
    """A small Holistic .pose file in the spec's layout (as Tests/.../PoseFileBuilder.swift writes it)."""
    pose_names = ["NOSE", "LEFT_EYE_INNER", "LEFT_EYE", "LEFT_EYE_OUTER", "RIGHT_EYE_INNER", "RIGHT_EYE",
                  "RIGHT_EYE_OUTER", "LEFT_EAR", "RIGHT_EAR", "MOUTH_LEFT", "MOUTH_RIGHT", "LEFT_SHOULDER",
                  "RIGHT_SHOULDER", "LEFT_ELBOW", "RIGHT_ELBOW", "LEFT_WRIST", "RIGHT_WRIST", "LEFT_PINKY",
                  "RIGHT_PINKY", "LEFT_INDEX", "RIGHT_INDEX", "LEFT_THUMB", "RIGHT_THUMB", "LEFT_HIP", "RIGHT_HIP",
                  "LEFT_KNEE", "RIGHT_KNEE", "LEFT_ANKLE", "RIGHT_ANKLE", "LEFT_HEEL", "RIGHT_HEEL",
                  "LEFT_FOOT_INDEX", "RIGHT_FOOT_INDEX"]
    hand_names = ["WRIST", "THUMB_CMC", "THUMB_MCP", "THUMB_IP", "THUMB_TIP", "INDEX_FINGER_MCP",
                  "INDEX_FINGER_PIP", "INDEX_FINGER_DIP", "INDEX_FINGER_TIP", "MIDDLE_FINGER_MCP",
                  "MIDDLE_FINGER_PIP", "MIDDLE_FINGER_DIP", "MIDDLE_FINGER_TIP", "RING_FINGER_MCP", "RING_FINGER_PIP",
                  "RING_FINGER_DIP", "RING_FINGER_TIP", "PINKY_MCP", "PINKY_PIP", "PINKY_DIP", "PINKY_TIP"]
    components = [("POSE_LANDMARKS", pose_names), ("FACE_LANDMARKS", ["0", "1"]),
                  ("LEFT_HAND_LANDMARKS", hand_names), ("RIGHT_HAND_LANDMARKS", hand_names)]

    def string(text):
        return struct.pack("<H", len(text)) + text.encode()

    out = struct.pack("<fHHHH", version, 1280, 720, 0, len(components))
    for name, names in components:
        out += string(name) + string("XYZC") + struct.pack("<HHH", len(names), 1, 1)
        out += b"".join(string(n) for n in names) + struct.pack("<HH", 0, 1) + struct.pack("<HHH", 255, 0, 0)
    out += struct.pack("<fI", 25.0, frames) if version > 0.15 else struct.pack("<HH", 25, frames)
    out += struct.pack("<H", 1)
    total = sum(len(n) for _, n in components)
    for f in range(frames):
        for i in range(total):
            x, y, _ = points(f, i)
            out += struct.pack("<fff", x, y, 0.25)
    for f in range(frames):
        for i in range(total):
            out += struct.pack("<f", points(f, i)[2])
    return out


def pose_seeds(out):
    write(out, "FuzzPoseFile", "synthetic-v02", (FIXTURES / "preprocess/synthetic-v02.pose").read_bytes())
    write(out, "FuzzPoseFile", "small-v01", pose_file(0.1, 2))
    write(out, "FuzzPoseFile", "small-v02", pose_file(0.2, 3))
    write(out, "FuzzPoseFile", "undetected-v02", pose_file(0.2, 1, lambda f, i: (625.0, 625.0, 0.0)))


def torch_archives():
    for path in sorted(FIXTURES.rglob("*.pth")):
        if path.stat().st_size <= MAX_SEED_BYTES:
            yield path


def pickle_seeds(out):
    for path in torch_archives():
        if not zipfile.is_zipfile(path):
            write(out, "FuzzUnpickler", path.stem, path.read_bytes())  # legacy torch: pickles back to back
            continue
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                if member.endswith("/data.pkl"):
                    write(out, "FuzzUnpickler", path.stem, archive.read(member))
    value = {"epoch": 3, "best": 0.5, "name": "run", "flags": [True, False, None], "shape": (2, 3),
             "big": 2 ** 80, "neg": -7, "bytes": b"\x00\x01", "set": {1, 2}, "frozen": frozenset({3}),
             "nested": {"a": [[1.5, -2.25], {"b": "c"}]}}
    for protocol in range(0, 6):
        write(out, "FuzzUnpickler", f"plain-protocol{protocol}", pickle.dumps(value, protocol=protocol))


def torch_zip_seeds(out):
    for path in torch_archives():
        write(out, "FuzzTorchZip", path.stem, path.read_bytes())
    # The same members deflated, so the inflate path has seeds too.
    path = FIXTURES / "checkpoint-readers/dtypes.pth"
    buffer = io.BytesIO()
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info))
    write(out, "FuzzTorchZip", "dtypes-deflated", buffer.getvalue())


def safetensors_file(tensors, metadata=None):
    header, data = {}, b""
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    if metadata is not None:
        header["__metadata__"] = metadata
    text = compact(header).encode()
    return struct.pack("<Q", len(text)) + text + data


def safetensors_seeds(out):
    for path in sorted(FIXTURES.rglob("*.safetensors")):
        write(out, "FuzzSafeTensors", path.parent.name + "-" + path.stem, path.read_bytes())
    write(out, "FuzzSafeTensors", "small", safetensors_file({
        "module.w": ("F32", [2, 2], struct.pack("<4f", 1, 2, 3, 4)),
        "module.b": ("F16", [3], struct.pack("<3e", 0.5, -1, 2)),
        "module.s": ("BF16", [], b"\x80\x3f"),
        "module.d": ("F64", [1, 1], struct.pack("<d", 3.25)),
        "module.e": ("F32", [0, 4], b""),
    }, metadata={"format": "pt"}))


# HTTP/2 (RFC 9113) client streams for FuzzHTTP2Frames: the first byte is the target's control byte (bit 0: small
# limits, bit 1: the stream carries its own preface), then a split plan, then frames.
def h2_frame(kind, flags, stream, payload=b""):
    return len(payload).to_bytes(3, "big") + bytes([kind, flags]) + stream.to_bytes(4, "big") + payload


def hpack_literal(name, value):
    """A literal header field without indexing, new name, no Huffman (RFC 7541 6.2.2)."""
    return bytes([0x00, len(name)]) + name.encode() + bytes([len(value)]) + value.encode()


def h2_request(stream, method, path, body=b"", extra=()):
    # :method GET/POST and :scheme http from the static table (2/3, 6); :path and :authority literal.
    block = bytes([0x82 if method == "GET" else 0x83, 0x86]) + hpack_literal(":path", path) + hpack_literal(":authority", "a")
    for name, value in extra:
        block += hpack_literal(name, value)
    frames = h2_frame(0x1, 0x4 | (0x1 if not body else 0), stream, block)  # HEADERS, END_HEADERS (+END_STREAM)
    if body:
        frames += h2_frame(0x0, 0x1, stream, body)  # DATA, END_STREAM
    return frames


def http2_seeds(out):
    settings = h2_frame(0x4, 0, 0, (3).to_bytes(2, "big") + (100).to_bytes(4, "big"))
    settings_ack = h2_frame(0x4, 0x1, 0)
    body = compact({"inputs": [example_clip("wave.json", 2)]}).encode()
    streams = {
        "get": h2_request(1, "GET", "/health"),
        "post": h2_request(1, "POST", "/predict", body[:900], [("content-type", "application/json")]),
        "many": b"".join(h2_request(2 * i + 1, "POST", "/echo", bytes([i]) * (40 * i)) for i in range(6)),
        "window-ping-rst": h2_request(1, "POST", "/echo", b"x" * 100)
        + h2_frame(0x8, 0, 0, (1000).to_bytes(4, "big")) + h2_frame(0x6, 0, 0, b"12345678")
        + h2_request(3, "GET", "/a") + h2_frame(0x3, 0, 3, (8).to_bytes(4, "big")),
        "continuation": h2_frame(0x1, 0x0, 1, bytes([0x82, 0x86]) + hpack_literal(":path", "/c"))
        + h2_frame(0x9, 0x4, 1, hpack_literal(":authority", "a")) + h2_frame(0x0, 0x1, 1, b""),
        "priority-goaway": h2_frame(0x2, 0, 1, bytes(5)) + h2_request(1, "GET", "/p")
        + h2_frame(0x7, 0, 0, bytes(8)),
        "padded": h2_frame(0x1, 0x4 | 0x8, 1, bytes([3, 0x83, 0x86]) + hpack_literal(":path", "/x")
                           + hpack_literal(":authority", "a") + bytes(3)) + h2_frame(0x0, 0x1 | 0x8, 1, bytes([2]) + b"ab" + bytes(2)),
        "content-length-mismatch": h2_request(1, "POST", "/echo", b"abc", [("content-length", "10")]),
    }
    for name, frames in streams.items():
        for control, suffix in ((0, ""), (1, "-small")):
            write(out, "FuzzHTTP2Frames", name + suffix, bytes([control, 0]) + settings + settings_ack + frames)
    preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
    write(out, "FuzzHTTP2Frames", "own-preface-split", bytes([2, 3, 5, 17, 200]) + preface + settings + streams["get"])


# WebSocket (RFC 6455) client streams for FuzzWebSocketFrames: control byte (bit 0: small limits), split plan
# byte (0: one byte at a time), then masked frames.
def ws_frame(opcode, payload=b"", fin=True, mask=b"\x37\xfa\x21\x3d", rsv=0):
    n = len(payload)
    head = bytes([(0x80 if fin else 0) | rsv | opcode])
    bit = 0x80 if mask else 0
    if n < 126:
        head += bytes([bit | n])
    elif n < 65536:
        head += bytes([bit | 126]) + struct.pack(">H", n)
    else:
        head += bytes([bit | 127]) + struct.pack(">Q", n)
    if mask:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        head += mask
    return head + payload


def websocket_seeds(out):
    start = json.dumps({"type": "start", "input": "features", "window": 8, "stride": 2}).encode()
    streams = {
        "hello": ws_frame(1, b"Hello"),
        "start-fragmented-ping": ws_frame(1, start[:10], fin=False) + ws_frame(9, b"p") + ws_frame(0, start[10:]),
        "binary-126": ws_frame(2, bytes(range(200))),
        "binary-127": ws_frame(2, bytes(70_000))[:20],
        "close-1000": ws_frame(8, struct.pack(">H", 1000) + b"bye"),
        "close-empty": ws_frame(8),
        "pong-then-text": ws_frame(10, b"x") + ws_frame(1, "é".encode()),
        "bad-utf8": ws_frame(1, b"\xc3\x28"),
        "unmasked": ws_frame(1, b"x", mask=None),
        "rsv1": ws_frame(1, b"x", rsv=0x40),
    }
    for name, data in streams.items():
        for control, suffix in ((0, ""), (1, "-small")):
            write(out, "FuzzWebSocketFrames", name + suffix, bytes([control, 3, 2, 7, 200]) + data)
    write(out, "FuzzWebSocketFrames", "bytewise", bytes([0, 0]) + streams["start-fragmented-ping"])


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: fuzz_seeds.py OUT_DIR")
    out = Path(sys.argv[1])
    for make in (http_seeds, http2_seeds, websocket_seeds, json_seeds, predict_seeds, open_inference_seeds, grpc_seeds,
                 pose_seeds, pickle_seeds,
                 torch_zip_seeds, safetensors_seeds):
        make(out)
    for folder in sorted(p for p in out.iterdir() if p.is_dir()):
        files = list(folder.iterdir())
        print(f"{folder.name}: {len(files)} seeds, {sum(f.stat().st_size for f in files)} bytes")


if __name__ == "__main__":
    main()
