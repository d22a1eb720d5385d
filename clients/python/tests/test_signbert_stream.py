#!/usr/bin/env python3
"""The Python stream client against a real `signbert serve` (the bundled demo model) over real sockets.

    python3 clients/python/tests/test_signbert_stream.py [path/to/signbert]

Needs only `websockets` (tools/test.sh runs it in its virtualenv). Checks:
- the client's own .pose reader: examples/wave.pose streamed as one window of all its frames gives the scores
  POST /predict gives for the same file's bytes (the server's .pose reader), to 1e-5;
- binary and JSON frames of a continuous recording (the demo page's .pose) give the same predictions and events
  (to float32 rounding); in lockstep every
  window due is computed (window-1, window-1+stride, ..., plus the flush window) and none is skipped; `end`
  counts what arrived;
- with the server's defaults, the sign events of that recording are its five gestures, in order;
- refusals become StreamError: an unknown model (HTTP 404 before the upgrade) and a malformed start (close 1007
  with the server's message).
"""
import asyncio
import http.client
import json
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "clients/python"))
from signbert_stream import Stream, StreamError, read_file, stream_recording, window_ends  # noqa: E402

BINARY = ROOT / ".build/debug/signbert"
DEMO_RECORDING = ROOT / "Sources/InferenceService/Resources/demo/recording.pose"


class ClientTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.log = tempfile.NamedTemporaryFile(prefix="signbert-client-", suffix=".log", delete=False)
        cls.server = subprocess.Popen([str(BINARY), "serve", "--host", "127.0.0.1", "--port", "0"], cwd=ROOT,
                                      stdin=subprocess.DEVNULL, stdout=cls.log, stderr=cls.log)
        cls.port = None
        deadline = time.monotonic() + 60
        while cls.port is None and time.monotonic() < deadline and cls.server.poll() is None:
            for raw in Path(cls.log.name).read_text(errors="replace").splitlines():
                if '"started"' in raw:
                    cls.port = int(json.loads(raw)["listen"].rsplit(":", 1)[1])
            time.sleep(0.05)
        if cls.port is None:
            raise RuntimeError(f"serve did not start: {Path(cls.log.name).read_text()}")
        cls.url = f"http://127.0.0.1:{cls.port}"

    @classmethod
    def tearDownClass(cls):
        cls.server.kill()
        cls.server.wait(10)
        cls.log.close()

    def run_stream(self, recording, **options):
        binary = options.pop("binary", False)
        pace = options.pop("pace", "lockstep")

        async def go():
            async with await Stream.connect(self.url) as stream:
                ready = await stream.start(image_width=recording.image_width, image_height=recording.image_height,
                                           **options)
                return ready, await stream_recording(stream, recording, pace=pace, binary=binary)
        return asyncio.run(go())

    def test_pose_reader_matches_the_servers(self):
        recording = read_file(ROOT / "examples/wave.pose")
        n = len(recording.frames)
        ready, messages = self.run_stream(recording, window=n, stride=n, top_k=8)
        predictions = [m for m in messages if m["type"] == "prediction"]
        self.assertEqual(len(predictions), 1)
        self.assertEqual((predictions[0]["start_frame"], predictions[0]["end_frame"]), (0, n - 1))
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        connection.request("POST", "/predict?top_k=8", body=(ROOT / "examples/wave.pose").read_bytes(),
                           headers={"Content-Type": "application/x-pose"})
        response = connection.getresponse()
        self.assertEqual(response.status, 200)
        expected = {p["label"]: p["score"] for p in json.loads(response.read())["predictions"][0]["top_k"]}
        got = {p["label"]: p["score"] for p in predictions[0]["predictions"]}
        self.assertEqual(set(got), set(expected))
        for label in expected:
            self.assertAlmostEqual(got[label], expected[label], delta=1e-5, msg=label)
        self.assertEqual(predictions[0]["predictions"][0]["label"], "wave")

    def test_continuous_recording_binary_and_json(self):
        # The demo page's recording: a continuous .pose file of five gestures (tools/make_demo_recording.py).
        recording = read_file(DEMO_RECORDING)
        self.assertEqual(len(recording.frames), 497)
        ready, as_json = self.run_stream(recording, window=48, stride=12, top_k=3)
        _, as_binary = self.run_stream(recording, window=48, stride=12, top_k=3, binary=True)
        windows = [m for m in as_json if m["type"] == "prediction"]
        due = window_ends(len(recording.frames), 48, 12)
        if due[-1] != len(recording.frames) - 1:
            due.append(len(recording.frames) - 1)  # the flush window
        self.assertEqual([m["end_frame"] for m in windows], due)
        self.assertTrue(all(m["skipped"] == 0 for m in windows))
        # The same windows and events; scores agree to float32 rounding (JSON numbers are read as doubles, the
        # binary form is float32 already).
        kinds = lambda ms: [(m["type"], m.get("start_frame"), m.get("end_frame"), m.get("label"),
                             [p["label"] for p in m.get("predictions", [])]) for m in ms]
        self.assertEqual(kinds(as_json), kinds(as_binary))
        for a, b in zip(as_json, as_binary):
            for p, q in zip(a.get("predictions", []), b.get("predictions", [])):
                self.assertAlmostEqual(p["score"], q["score"], delta=1e-5)
        end = as_json[-1]
        self.assertEqual(end["type"], "end")
        self.assertEqual(end["frames"], len(recording.frames))
        self.assertEqual(end["windows"], len(windows))
        self.assertEqual(end["events"], sum(m["type"] == "event" for m in as_json))
        self.assertGreater(end["events"], 0)

    def test_default_events_recover_the_demo_recording(self):
        # The server's default window, stride and event settings on the demo recording give its five gestures
        # (the recording was chosen as one the model recovers: tools/make_demo_recording.py).
        truth = [s["label"] for s in json.loads(DEMO_RECORDING.with_suffix(".json").read_text())["segments"]]
        _, messages = self.run_stream(read_file(DEMO_RECORDING))
        self.assertEqual([m["label"] for m in messages if m["type"] == "event"], truth)

    def test_refusals(self):
        async def unknown_model():
            await Stream.connect(self.url, model="no-such-model")
        with self.assertRaises(StreamError) as caught:
            asyncio.run(unknown_model())
        self.assertIn("HTTP 404", str(caught.exception))

        async def bad_start():
            async with await Stream.connect(self.url) as stream:
                await stream.start(image_width=0, image_height=480)
        with self.assertRaises(StreamError) as caught:
            asyncio.run(bad_start())
        self.assertEqual(caught.exception.code, 1007)
        self.assertIn("image_width", caught.exception.message)


if __name__ == "__main__":
    if len(sys.argv) > 1 and not sys.argv[1].startswith("-"):
        BINARY = Path(sys.argv.pop(1)).resolve()
    unittest.main(verbosity=2)
