#!/usr/bin/env python3
"""End-to-end check of the gRPC API (inference.GRPCInferenceService) of a built `signbert` binary with real clients.

Usage (tools/grpc_test.sh makes the venv and runs this with it):
    python tools/grpc_test.py path/to/signbert

Needs tritonclient[grpc,http], grpcio-tools and numpy. Starts `signbert serve` on the v1-small PyTorch fixture with
`--grpc-port 0` and an API key, then, one line per check:

  * tritonclient.grpc on the main port (prior-knowledge h2c, routed by content type) and on --grpc-port:
    liveness, readiness, model readiness, server and model metadata;
  * infer with FP32 and FP16 raw contents, async_infer, the streaming API (start_stream / async_stream_infer),
    and a gzip-compressed request: logits equal to V2 REST's binary infer of the same clips (FP32: exactly;
    and within case.json's tolerance of PyTorch's);
  * a stream used request by request (each answer awaited before the next request, 5 rounds), and one left idle
    for 12 s between requests;
  * a message over the 32 MiB limit: RESOURCE_EXHAUSTED, unary and in a stream;
  * a gzip request that accepts gzip gets a gzip answer (the flag and grpc-encoding checked raw with curl);
  * errors as status codes: wrong shape INVALID_ARGUMENT, unknown model NOT_FOUND, an expired deadline
    DEADLINE_EXCEEDED, no or a wrong API key UNAUTHENTICATED, an unimplemented method UNIMPLEMENTED;
  * Triton's model configuration and statistics extensions with tritonclient over gRPC and HTTP: the same
    configuration both ways (max_batch_size, keypoints dims without the batch), and inference_count growing by
    exactly the clips sent (success count by the requests) whichever protocol sent them;
  * Triton's model repository extension against `serve --model-repository`, with tritonclient over gRPC and HTTP:
    the index, unload and load of a model, a new version folder loaded and served as the highest, statistics per
    version, the API key required;
  * a second client generated at test time from Protos/grpc_predict_v2.proto with grpcio-tools (not committed):
    metadata and ModelInfer with fp32_contents and FP64 raw contents;
  * /metrics counts the calls with protocol="grpc", the access log has them with grpc_status and request_id;
  * SIGTERM while a large ModelInfer and an open stream are in flight: the call is answered OK, the stream's
    requests are answered and it ends UNAVAILABLE, then the process exits 0.

Prints `N passed, M failed` last and exits non-zero when anything failed.
"""
import http.client
import json
import queue
import re
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import grpc
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import integration_test as it  # noqa: E402  (find_binary, load_case)
from signbert_tools import checks  # noqa: E402
from signbert_tools.checks import check  # noqa: E402
from signbert_tools.paths import V1_SMALL_CHECKPOINT  # noqa: E402
from signbert_tools.server import ServeProcess  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
KEY = "grpc-test-key"
AUTH = {"authorization": f"Bearer {KEY}"}
MODEL = "signbert"


def code_of(call):
    """The gRPC status name a tritonclient call fails with, or "OK"."""
    from tritonclient.utils import InferenceServerException
    try:
        call()
        return "OK"
    except InferenceServerException as error:
        return str(error.status()).replace("StatusCode.", "")


def rest_infer(port, array, datatype):
    """V2 REST binary infer (the reference the gRPC logits must equal)."""
    raw = array.astype({"FP32": "<f4", "FP16": "<f2", "FP64": "<f8"}[datatype]).tobytes()
    header = json.dumps({"inputs": [{"name": "keypoints", "datatype": datatype, "shape": list(array.shape),
                                     "parameters": {"binary_data_size": len(raw)}}],
                         "outputs": [{"name": "logits", "parameters": {"binary_data": True}}]}).encode()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("POST", f"/v2/models/{MODEL}/infer", body=header + raw,
                       headers={"Content-Type": "application/octet-stream",
                                "Inference-Header-Content-Length": str(len(header)),
                                "Authorization": f"Bearer {KEY}"})
    response = connection.getresponse()
    body = response.read()
    assert response.status == 200, (response.status, body[:300])
    length = int(response.getheader("Inference-Header-Content-Length"))
    return np.frombuffer(body[length:], dtype="<f4").reshape(array.shape[0], -1)


def triton_inputs(array, datatype):
    import tritonclient.grpc as triton
    tensor = triton.InferInput("keypoints", list(array.shape), datatype)
    tensor.set_data_from_numpy(array.astype({"FP32": np.float32, "FP16": np.float16, "FP64": np.float64}[datatype]))
    return [tensor]


def tritonclient_checks(server, grpc_port, array, expected, tolerance):
    import tritonclient.grpc as triton
    port = server.port
    for label, target in (("main port", port), ("--grpc-port", grpc_port)):
        client = triton.InferenceServerClient(f"127.0.0.1:{target}")
        check(f"tritonclient ({label}): is_server_live, is_server_ready, is_model_ready",
              client.is_server_live() and client.is_server_ready() and client.is_model_ready(MODEL))
    client = triton.InferenceServerClient(f"127.0.0.1:{port}")
    server_metadata = client.get_server_metadata()
    check("tritonclient: server metadata", server_metadata.name == "signbert" and server_metadata.version != "",
          f"{server_metadata.name} {server_metadata.version}")
    metadata = client.get_model_metadata(MODEL)
    shape = list(metadata.inputs[0].shape)
    check("tritonclient: model metadata (keypoints FP32 [-1,-1,V,C]; logits, probabilities)",
          metadata.name == MODEL and metadata.inputs[0].name == "keypoints" and metadata.inputs[0].datatype == "FP32"
          and shape[:2] == [-1, -1] and [o.name for o in metadata.outputs] == ["logits", "probabilities"],
          f"{shape}")

    rest32 = rest_infer(port, array, "FP32")
    check("V2 REST binary FP32 infer matches PyTorch", np.abs(rest32.ravel() - expected).max() <= tolerance)
    outputs = [triton.InferRequestedOutput("logits"), triton.InferRequestedOutput("probabilities")]
    result = client.infer(MODEL, triton_inputs(array, "FP32"), outputs=outputs, headers=AUTH, request_id="c1")
    logits = result.as_numpy("logits")
    check("tritonclient infer, FP32 raw contents: logits equal V2 REST's", np.array_equal(logits, rest32),
          f"max |diff| {np.abs(logits - rest32).max():.3g}")
    check("tritonclient infer, FP32: logits match PyTorch", np.abs(logits.ravel() - expected).max() <= tolerance,
          f"max |diff| {np.abs(logits.ravel() - expected).max():.2e} <= {tolerance}")
    probabilities = result.as_numpy("probabilities")
    check("tritonclient infer: probabilities are the logits' softmax, id echoed",
          np.allclose(probabilities.sum(axis=1), 1, atol=1e-5) and result.get_response().id == "c1")

    rest16 = rest_infer(port, array, "FP16")
    logits16 = client.infer(MODEL, triton_inputs(array, "FP16"), headers=AUTH).as_numpy("logits")
    check("tritonclient infer, FP16 raw contents: logits equal V2 REST's FP16", np.array_equal(logits16, rest16),
          f"max |diff| to FP32 {np.abs(logits16 - rest32).max():.3g}")

    zipped = client.infer(MODEL, triton_inputs(array, "FP32"), headers=AUTH, compression_algorithm="gzip")
    check("tritonclient infer with gzip request compression: same logits", np.array_equal(zipped.as_numpy("logits"), rest32))

    answers = queue.Queue()
    client.async_infer(MODEL, triton_inputs(array, "FP32"), lambda result, error: answers.put((result, error)),
                       headers=AUTH)
    result, error = answers.get(timeout=30)
    check("tritonclient async_infer: same logits", error is None and np.array_equal(result.as_numpy("logits"), rest32),
          str(error) if error else "")

    streamed = queue.Queue()
    client.start_stream(lambda result, error: streamed.put((result, error)), headers=AUTH)
    for index in range(3):
        client.async_stream_infer(MODEL, triton_inputs(array[index:index + 1], "FP32"), request_id=f"s{index}")
    client.async_stream_infer("no-such-model", triton_inputs(array[:1], "FP32"), request_id="s3")
    client.stop_stream()
    got = [streamed.get(timeout=30) for _ in range(4)]
    ok = all(error is None for _, error in got[:3])
    ok = ok and [r.get_response().id for r, _ in got[:3]] == ["s0", "s1", "s2"]
    ok = ok and all(np.array_equal(r.as_numpy("logits"), rest32[i:i + 1]) for i, (r, _) in enumerate(got[:3]))
    check("tritonclient streaming (start_stream, 3 x async_stream_infer): 3 answers in order, logits equal V2 REST's",
          ok, f"{[(r.get_response().id if r else None, str(e) if e else None) for r, e in got[:3]]}")
    check("tritonclient streaming: a request for an unknown model answers with its error, the stream goes on",
          got[3][1] is not None and "unknown model" in str(got[3][1]), str(got[3][1]))
    stream_round_checks(client, array, rest32)

    wrong = np.zeros((1, 4, 5), dtype=np.float32)
    check("wrong shape -> INVALID_ARGUMENT",
          code_of(lambda: client.infer(MODEL, triton_inputs(wrong, "FP32"), headers=AUTH)) == "INVALID_ARGUMENT")
    check("unknown model -> NOT_FOUND",
          code_of(lambda: client.infer("no-such-model", triton_inputs(array, "FP32"), headers=AUTH)) == "NOT_FOUND")
    check("model metadata of an unknown model -> NOT_FOUND", code_of(lambda: client.get_model_metadata("x")) == "NOT_FOUND")
    check("no API key -> UNAUTHENTICATED",
          code_of(lambda: client.infer(MODEL, triton_inputs(array, "FP32"))) == "UNAUTHENTICATED")
    check("wrong API key -> UNAUTHENTICATED",
          code_of(lambda: client.infer(MODEL, triton_inputs(array, "FP32"),
                                       headers={"authorization": "Bearer nope"})) == "UNAUTHENTICATED")
    # gRPC rounds a deadline up to whole milliseconds, and v1-small computes a few clips in less (this check failed
    # one run in three once the attention got faster): 256 clips, the most one request may carry, take longer.
    many = np.repeat(array, 256 // array.shape[0] + 1, axis=0)[:256]
    timed_out = code_of(lambda: client.infer(MODEL, triton_inputs(many, "FP32"), headers=AUTH, client_timeout=1e-6))
    check("client_timeout 1 us -> DEADLINE_EXCEEDED", timed_out == "DEADLINE_EXCEEDED", timed_out)
    check("an unimplemented method (get_system_shared_memory_status) -> UNIMPLEMENTED",
          code_of(lambda: client.get_system_shared_memory_status()) == "UNIMPLEMENTED")
    oversize_checks(client)
    return rest32


def triton_extension_checks(port, array):
    """ModelConfig / GET .../config and ModelStatistics / GET .../stats, through tritonclient's own calls."""
    import tritonclient.grpc as triton
    import tritonclient.http as triton_http
    client = triton.InferenceServerClient(f"127.0.0.1:{port}")
    http_client = triton_http.InferenceServerClient(f"127.0.0.1:{port}")
    config = client.get_model_config(MODEL).config
    http_config = http_client.get_model_config(MODEL)
    dims = [-1] + list(client.get_model_metadata(MODEL).inputs[0].shape[2:])  # [-1, V, C]: no batch dimension
    check("tritonclient.grpc get_model_config: max_batch_size, keypoints TYPE_FP32 dims [-1,V,C], logits and probabilities",
          config.name == MODEL and config.max_batch_size > 0 and config.input[0].name == "keypoints"
          and config.input[0].data_type == 11 and list(config.input[0].dims) == dims
          and [o.name for o in config.output] == ["logits", "probabilities"], f"{config.max_batch_size} {list(config.input[0].dims)}")
    check("tritonclient.http get_model_config: the same configuration",
          http_config["name"] == MODEL and http_config["max_batch_size"] == config.max_batch_size
          and http_config["input"][0]["dims"] == dims and http_config["input"][0]["data_type"] == "TYPE_FP32"
          and http_config["dynamic_batching"]["max_queue_delay_microseconds"] == config.dynamic_batching.max_queue_delay_microseconds,
          json.dumps(http_config)[:200])

    def grpc_stats():
        stats = client.get_inference_statistics(MODEL).model_stats
        assert len(stats) == 1 and stats[0].name == MODEL and stats[0].version == "1", stats
        return stats[0].inference_count, stats[0].inference_stats.success.count, stats[0].execution_count

    def http_stats(path_model=MODEL):
        stats = http_client.get_inference_statistics(path_model)["model_stats"]
        assert len(stats) == 1 and stats[0]["name"] == MODEL, stats
        return stats[0]["inference_count"], stats[0]["inference_stats"]["success"]["count"], stats[0]["execution_count"]

    clips = array.shape[0]
    before = grpc_stats()
    check("statistics: gRPC and HTTP report the same counts", before == http_stats() == http_stats(""), f"{before}")
    client.infer(MODEL, triton_inputs(array, "FP32"), headers=AUTH)
    after_grpc = grpc_stats()
    check(f"statistics: a gRPC infer of {clips} clips adds exactly {clips} inferences and 1 success",
          after_grpc[0] == before[0] + clips and after_grpc[1] == before[1] + 1 and after_grpc[2] > before[2],
          f"{before} -> {after_grpc}")
    tensor = triton_http.InferInput("keypoints", list(array[:1].shape), "FP32")
    tensor.set_data_from_numpy(array[:1].astype(np.float32), binary_data=True)
    http_client.infer(MODEL, [tensor], headers=dict(AUTH))  # tritonclient.http adds its own headers to the dict
    after_http = http_stats()
    check("statistics: an HTTP (V2 binary) infer of 1 clip adds exactly 1 inference and 1 success",
          after_http[0] == after_grpc[0] + 1 and after_http[1] == after_grpc[1] + 1, f"{after_grpc} -> {after_http}")
    check("statistics of an unknown model -> NOT_FOUND", code_of(lambda: client.get_inference_statistics("x")) == "NOT_FOUND")


def stream_rounds(client, array, rest32, rounds, prefix, pause=0.0):
    """One stream; per round one request, then its answer awaited (10 s) before the next is sent. Returns one
    bool per answered round (id echoed, logits equal V2 REST's for that clip); stops at the first unanswered."""
    answers = queue.Queue()
    client.start_stream(lambda result, error: answers.put((result, error)), headers=AUTH)
    ok = []
    try:
        for index in range(rounds):
            if index and pause:
                time.sleep(pause)
            clip = index % len(array)
            client.async_stream_infer(MODEL, triton_inputs(array[clip:clip + 1], "FP32"), request_id=f"{prefix}{index}")
            try:
                result, error = answers.get(timeout=10)
            except queue.Empty:
                break
            ok.append(error is None and result.get_response().id == f"{prefix}{index}"
                      and np.array_equal(result.as_numpy("logits"), rest32[clip:clip + 1]))
    finally:
        client.stop_stream()
    return ok


def stream_round_checks(client, array, rest32):
    """ModelStreamInfer answers each request while the stream stays open (the server used to answer a stream only
    once the client half-closed it, so a client waiting for each answer hung), and an open stream may be idle longer
    than the HTTP/2 upload idle limit (10 s) within the stream idle timeout (120 s)."""
    start = time.monotonic()
    ok = stream_rounds(client, array, rest32, 5, "w")
    check("tritonclient streaming, 5 rounds each waiting for its answer before the next request: answered, "
          "logits equal V2 REST's", ok == [True] * 5, f"{len(ok)} of 5 rounds answered in {time.monotonic() - start:.1f} s")
    ok = stream_rounds(client, array, rest32, 2, "i", pause=12)
    check("tritonclient streaming: a stream idle for 12 s between requests (over the 10 s upload idle limit) "
          "still answers", ok == [True, True], f"{len(ok)} of 2 rounds answered")


def oversize_checks(client):
    """A message over --max-body-bytes (32 MiB here): RESOURCE_EXHAUSTED, for a unary call (refused by the HTTP/2
    layer's body limit, formerly an HTTP 413 that clients saw as UNKNOWN) and inside an open stream."""
    huge = np.zeros((128, 1024, 81), dtype=np.float32)  # 42 MB of raw contents
    check("ModelInfer over the 32 MiB message limit -> RESOURCE_EXHAUSTED",
          code_of(lambda: client.infer(MODEL, triton_inputs(huge, "FP32"), headers=AUTH)) == "RESOURCE_EXHAUSTED")
    answers = queue.Queue()
    client.start_stream(lambda result, error: answers.put((result, error)), headers=AUTH)
    try:
        client.async_stream_infer(MODEL, triton_inputs(huge, "FP32"), request_id="huge")
        try:
            _, error = answers.get(timeout=30)
        except queue.Empty:
            error = None
    finally:
        client.stop_stream()
    status = str(error.status()).replace("StatusCode.", "") if error is not None else "no answer"
    check("ModelStreamInfer message over the limit -> the stream ends RESOURCE_EXHAUSTED", status == "RESOURCE_EXHAUSTED",
          status)


def gzip_answer_checks(pb, port, request, rest32):
    """A gzip-compressed request that accepts gzip gets gzip-compressed answers: raw over curl (the compressed flag
    and the grpc-encoding header, as grpc-go and grpc-java answer), then decoded by grpcio."""
    import gzip
    body = gzip.compress(request.SerializeToString())
    with tempfile.TemporaryDirectory() as out:
        out = Path(out)
        (out / "request").write_bytes(b"\x01" + struct.pack(">I", len(body)) + body)
        run = subprocess.run(["curl", "-sS", "--http2-prior-knowledge", "-D", str(out / "headers"), "-o", str(out / "body"),
                              "-H", "content-type: application/grpc", "-H", "te: trailers",
                              "-H", "grpc-encoding: gzip", "-H", "grpc-accept-encoding: identity,deflate,gzip",
                              "-H", f"authorization: Bearer {KEY}", "--data-binary", f"@{out / 'request'}",
                              f"http://127.0.0.1:{port}/inference.GRPCInferenceService/ModelInfer"],
                             capture_output=True, text=True, timeout=30)
        headers = (out / "headers").read_text().lower() if (out / "headers").exists() else ""
        answer = (out / "body").read_bytes() if (out / "body").exists() else b""
    flag = answer[0] if answer else None
    logits = None
    if flag == 1 and len(answer) >= 5:
        length = struct.unpack(">I", answer[1:5])[0]
        response = pb.ModelInferResponse.FromString(gzip.decompress(answer[5:5 + length]))
        logits = np.frombuffer(response.raw_output_contents[0], dtype="<f4").reshape(rest32.shape)
    check("gzip request accepting gzip (curl): the answer has grpc-encoding: gzip, the compressed flag, and "
          "decompresses to V2 REST's logits",
          run.returncode == 0 and "grpc-encoding: gzip" in headers and flag == 1 and logits is not None
          and np.array_equal(logits, rest32), f"curl rc {run.returncode}, flag {flag}, {run.stderr.strip()[:200]}")


def generated_client_checks(port, array, rest32):
    """Runs in its own interpreter (see main): tritonclient's own generated modules already hold the `inference.*`
    names in protobuf's default descriptor pool, so the two cannot be loaded into one process."""
    with tempfile.TemporaryDirectory() as out:
        from grpc_tools import protoc
        rc = protoc.main(["protoc", f"-I{ROOT / 'Protos'}", f"--python_out={out}", f"--grpc_python_out={out}",
                          str(ROOT / "Protos/grpc_predict_v2.proto"), str(ROOT / "Protos/model_config.proto")])
        check("grpcio-tools generates a client from Protos/grpc_predict_v2.proto (and model_config.proto)", rc == 0)
        sys.path.insert(0, out)
        import grpc_predict_v2_pb2 as pb
        import grpc_predict_v2_pb2_grpc as pb_grpc
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        stub = pb_grpc.GRPCInferenceServiceStub(channel)
        metadata = stub.ModelMetadata(pb.ModelMetadataRequest(name=MODEL))
        check("generated client: ModelMetadata", metadata.name == MODEL and list(metadata.versions) == ["1"]
              and metadata.inputs[0].name == "keypoints")
        live = stub.ServerLive(pb.ServerLiveRequest())
        check("generated client: ServerLive", live.live)
        config = stub.ModelConfig(pb.ModelConfigRequest(name=MODEL)).config
        stats = stub.ModelStatistics(pb.ModelStatisticsRequest()).model_stats
        check("generated client: ModelConfig and ModelStatistics",
              config.name == MODEL and config.max_batch_size > 0 and list(config.input[0].dims)[0] == -1
              and [s.name for s in stats] == [MODEL] and stats[0].inference_count > 0,
              f"{config.max_batch_size} {[s.inference_count for s in stats]}")
        request = pb.ModelInferRequest(model_name=MODEL, id="g1")
        tensor = request.inputs.add(name="keypoints", datatype="FP32", shape=list(array.shape))
        tensor.contents.fp32_contents.extend(array.astype(np.float32).ravel().tolist())
        request.outputs.add(name="logits")
        response = stub.ModelInfer(request, metadata=tuple(AUTH.items()))
        logits = np.frombuffer(response.raw_output_contents[0], dtype="<f4").reshape(rest32.shape)
        check("generated client: ModelInfer with fp32_contents equals V2 REST's logits",
              response.id == "g1" and [o.name for o in response.outputs] == ["logits"]
              and list(response.outputs[0].shape) == list(rest32.shape) and np.array_equal(logits, rest32))
        request64 = pb.ModelInferRequest(model_name=MODEL, raw_input_contents=[array.astype("<f8").tobytes()])
        request64.inputs.add(name="keypoints", datatype="FP64", shape=list(array.shape))
        response64 = stub.ModelInfer(request64, metadata=tuple(AUTH.items()))
        logits64 = np.frombuffer(response64.raw_output_contents[0], dtype="<f4").reshape(rest32.shape)
        check("generated client: ModelInfer with FP64 raw contents equals V2 REST's FP64", 
              np.array_equal(logits64, rest_infer(port, array, "FP64")))
        try:
            zipped = stub.ModelInfer(request, metadata=tuple(AUTH.items()), timeout=30, compression=grpc.Compression.Gzip)
            logits = np.frombuffer(zipped.raw_output_contents[0], dtype="<f4").reshape(rest32.shape)
            check("generated client: gzip-compressed ModelInfer, its gzip answer decoded by grpcio: V2 REST's logits",
                  np.array_equal(logits, rest32))
        except grpc.RpcError as error:
            check("generated client: gzip-compressed ModelInfer", False, f"{error.code()} {error.details()}")
        gzip_answer_checks(pb, port, request, rest32)
        channel.close()


def observability_checks(server):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request("GET", "/metrics")
    metrics = connection.getresponse().read().decode()
    grpc_lines = [line for line in metrics.splitlines() if line.startswith("signbert_requests_total") and 'protocol="grpc"' in line]
    check('/metrics counts gRPC calls with protocol="grpc", method as route, grpc-status as status',
          any('route="/inference.GRPCInferenceService/ModelInfer"' in line and 'status="0"' in line for line in grpc_lines)
          and any('status="16"' in line for line in grpc_lines), f"{len(grpc_lines)} series")
    logged = [line for line in server.log_entries() if line.get("message") == "request" and line.get("protocol") == "grpc"]
    check("access log: gRPC calls with protocol grpc, grpc_status and request_id",
          len(logged) > 5 and all("grpc_status" in line and "request_id" in line for line in logged),
          f"{len(logged)} lines")


def drain_check(server, array, rest32):
    import tritonclient.grpc as triton
    client = triton.InferenceServerClient(f"127.0.0.1:{server.port}")
    # An open ModelStreamInfer: one round answered, then two requests in flight at the SIGTERM.
    stream_client = triton.InferenceServerClient(f"127.0.0.1:{server.port}")
    streamed = queue.Queue()
    stream_client.start_stream(lambda result, error: streamed.put((result, error)), headers=AUTH)
    stream_client.async_stream_infer(MODEL, triton_inputs(array[:1], "FP32"), request_id="d0")
    first = streamed.get(timeout=10)
    big = np.repeat(array, 86, axis=0)[:256]  # 256 clips: several batches, well over the SIGTERM
    answers = queue.Queue()
    client.async_infer(MODEL, triton_inputs(big, "FP32"), lambda result, error: answers.put((result, error)), headers=AUTH)
    for index in (1, 2):
        stream_client.async_stream_infer(MODEL, triton_inputs(array[index:index + 1], "FP32"), request_id=f"d{index}")
    time.sleep(0.05)
    server.proc.send_signal(signal.SIGTERM)
    result, error = answers.get(timeout=60)
    try:
        after = [streamed.get(timeout=30) for _ in range(3)]
    except queue.Empty:
        after = []
    stream_client.stop_stream()
    status = server.proc.wait(60)
    check("SIGTERM during a 256-clip ModelInfer: it is answered, then exit 0",
          error is None and result.as_numpy("logits").shape[0] == 256 and status == 0,
          f"error {error}, exit {status}")
    answered = len(after) == 3 and first[1] is None and all(e is None for _, e in after[:2]) and \
        [r.get_response().id for r, _ in after[:2]] == ["d1", "d2"] and \
        all(np.array_equal(r.as_numpy("logits"), rest32[i + 1:i + 2]) for i, (r, _) in enumerate(after[:2]))
    end = str(after[2][1].status()).replace("StatusCode.", "") if len(after) == 3 and after[2][1] is not None else "none"
    check("SIGTERM with an open ModelStreamInfer: its requests in flight are answered, then it ends UNAVAILABLE",
          answered and end == "UNAVAILABLE",
          f"{[(r.get_response().id if r else None, str(e)[:80] if e else None) for r, e in after]}")
    logged = server.log_entries()
    check("drain logged (draining, drained)", any(l.get("message") == "draining" for l in logged)
          and any(l.get("message") == "drained" for l in logged))


def generated_client_main(port):
    clips, _, _ = it.load_case()
    array = np.array(clips, dtype=np.float64)
    array = array.reshape(array.shape[0], array.shape[1], -1)
    try:
        generated_client_checks(port, array, rest_infer(port, array, "FP32"))
    except Exception as error:
        import traceback
        traceback.print_exc()
        check("the generated-client checks ran to the end", False, repr(error))
    checks.finish()


def repository_checks(binary, workdir, array, expected, tolerance):
    """Triton's model-control calls through tritonclient (gRPC and HTTP) against `serve --model-repository`: the
    index, unload and load of a model, a new version folder picked up by a load call, the API key required."""
    import shutil
    import tritonclient.grpc as triton
    import tritonclient.http as triton_http
    repository = Path(workdir) / "repository"
    shutil.copytree(V1_SMALL_CHECKPOINT.parent, repository / "small" / "1")
    shutil.copytree(ROOT / "models" / "demo-gestures", repository / "demo" / "1")
    server = ServeProcess(binary, ["--model-repository", repository, "--max-queue-delay-ms", "2", "--api-key", KEY],
                          log_path=Path(workdir) / "serve-repository.log")
    try:
        server.start()
        client = triton.InferenceServerClient(f"127.0.0.1:{server.port}")
        http_client = triton_http.InferenceServerClient(f"127.0.0.1:{server.port}")

        def grpc_index(ready=False):
            index = client.get_model_repository_index(headers=AUTH).models
            return sorted(f"{m.name}/{m.version}/{m.state}" for m in index if not ready or m.state == "READY")

        def http_index():
            return sorted(f"{m['name']}/{m['version']}/{m['state']}" for m in http_client.get_model_repository_index(headers=dict(AUTH)))

        def small_logits():
            result = client.infer("small", triton_inputs(array, "FP32"), headers=AUTH)
            return result.get_response().model_version, result.as_numpy("logits")

        ready = ["demo/1/READY", "small/1/READY"]
        check("repository: tritonclient.grpc and tritonclient.http list the same index", grpc_index() == http_index() == ready,
              f"{grpc_index()} {http_index()}")
        check("repository: the index without the API key -> UNAUTHENTICATED",
              code_of(lambda: client.get_model_repository_index()) == "UNAUTHENTICATED")
        version, logits = small_logits()
        difference = np.abs(logits - expected.reshape(logits.shape)).max()
        check("repository: the training run's model answers PyTorch's logits", difference <= tolerance, f"{difference}")
        client.unload_model("small", headers=AUTH)
        check("repository: gRPC unload_model takes it out (ModelReady false, infer NOT_FOUND, index UNAVAILABLE)",
              client.is_model_ready("small") is False and code_of(small_logits) == "NOT_FOUND"
              and http_index() == ["demo/1/READY", "small/1/UNAVAILABLE"], f"{http_index()}")
        http_client.load_model("small", headers=dict(AUTH))
        version, again = small_logits()
        check("repository: HTTP load_model brings it back with the same logits", http_client.is_model_ready("small")
              and np.array_equal(again, logits), f"{version}")
        shutil.copytree(repository / "small" / "1", repository / "small" / "2")
        client.load_model("small", headers=AUTH)
        version, newer = small_logits()
        check("repository: a new version folder is loaded by load_model and serves as the highest",
              version == "2" and np.array_equal(newer, logits) and client.get_model_metadata("small").versions == ["1", "2"]
              and grpc_index(ready=True) == ["demo/1/READY", "small/1/READY", "small/2/READY"], f"{version} {grpc_index()}")
        check("repository: load_model of a name with no folder -> NOT_FOUND",
              code_of(lambda: client.load_model("nothing", headers=AUTH)) == "NOT_FOUND")
        stats = client.get_inference_statistics("small", headers=AUTH).model_stats
        check("repository: statistics per version, counted from its load (version 1, reloaded: 1 request; version 2: 1)",
              sorted((s.version, s.inference_stats.success.count) for s in stats) == [("1", 1), ("2", 1)],
              f"{[(s.version, s.inference_stats.success.count) for s in stats]}")
    finally:
        server.kill()
        if checks.failed:
            print(server.log_text()[-3000:])


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--generated-client":
        return generated_client_main(int(sys.argv[2]))
    binary = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else it.find_binary()
    clips, expected, tolerance = it.load_case()
    array = np.array(clips, dtype=np.float64)
    array = array.reshape(array.shape[0], array.shape[1], -1)
    expected = np.array(expected, dtype=np.float32)
    with tempfile.TemporaryDirectory() as workdir:
        server = ServeProcess(binary, ["--checkpoint", V1_SMALL_CHECKPOINT, "--max-queue-delay-ms", "2",
                                       "--grpc-port", "0", "--api-key", KEY], log_path=Path(workdir) / "serve.log")
        try:
            server.start()
            grpc_port = next(int(line["grpc_listen"].rsplit(":", 1)[1]) for line in server.log_entries()
                             if line.get("message") == "started")
            rest32 = tritonclient_checks(server, grpc_port, array, expected, tolerance)
            triton_extension_checks(server.port, array)
            generated = subprocess.run([sys.executable, __file__, "--generated-client", str(server.port)],
                                       capture_output=True, text=True, timeout=120)
            print(generated.stdout, end="", flush=True)
            results = re.search(r"(\d+) passed, (\d+) failed", generated.stdout)
            checks.passed += int(results.group(1)) if results else 0
            checks.failed += int(results.group(2)) if results else 1
            if generated.returncode != 0 or not results:
                print(generated.stderr[-2000:])
            observability_checks(server)
            drain_check(server, array, rest32)
            repository_checks(binary, workdir, array, expected, tolerance)
        except Exception as error:  # a crash of the script is a failure, with its cause
            import traceback
            traceback.print_exc()
            check("the checks ran to the end", False, repr(error))
        finally:
            server.kill()
            if checks.failed:
                print(server.log_text()[-3000:])
    checks.finish()


if __name__ == "__main__":
    main()
