"""Protocol-buffer wire format by hand, for the few messages the fuzz seeds and the gRPC benchmark build without
generated code (the .proto is Protos/grpc_predict_v2.proto), and gRPC's length-prefixed message framing."""
import struct


def varint(value):
    """An unsigned base-128 varint."""
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def field(number, payload):
    """A length-delimited field (wire type 2): strings, bytes, messages, packed repeated numbers."""
    if isinstance(payload, str):
        payload = payload.encode()
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def grpc_frame(message, compressed=False):
    """One gRPC message: the compressed flag, the 4-byte big-endian length, the message."""
    return bytes([1 if compressed else 0]) + struct.pack(">I", len(message)) + message
