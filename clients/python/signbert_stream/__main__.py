"""python -m signbert_stream: stream a recording to a signbert server and print the predictions and sign events.

    python -m signbert_stream --server http://localhost:8080 examples/wave.pose
    python -m signbert_stream --synthetic 7 --fast --events-only
"""
import argparse
import asyncio
import json
import sys

from .client import Stream, StreamError, stream_recording
from .sources import SourceError, read_file, synthetic


def parse_args(argv):
    ap = argparse.ArgumentParser(prog="python -m signbert_stream", description=__doc__.split("\n")[0])
    what = ap.add_mutually_exclusive_group(required=True)
    what.add_argument("file", nargs="?", help="a .pose file or a landmark JSON file (a recording, a landmark clip "
                                               "or a /predict request of the landmark form)")
    what.add_argument("--synthetic", type=int, metavar="SEED",
                      help="a synthetic continuous recording of tools/gesture_data.py (needs numpy)")
    ap.add_argument("--index", type=int, default=0, help="which recording of --synthetic's seed (default 0)")
    ap.add_argument("--server", default="http://localhost:8080", help="the server (default http://localhost:8080) "
                                                                     "or a full ws:// stream URL")
    ap.add_argument("--model", help="the model's name (default: the server's default model, /stream)")
    ap.add_argument("--api-key", help="the server's API key (Authorization: Bearer)")
    pace = ap.add_mutually_exclusive_group()
    pace.add_argument("--fps", type=float, help="real time at this frame rate (default: the file's, else 30)")
    pace.add_argument("--fast", action="store_true", help="as fast as the socket takes the frames (windows may be skipped)")
    pace.add_argument("--lockstep", action="store_true", help="wait for each window's prediction before sending on")
    ap.add_argument("--binary", action="store_true", help="send frames as binary float32 instead of JSON")
    ap.add_argument("--window", type=int)
    ap.add_argument("--stride", type=int)
    ap.add_argument("--top-k", type=int, default=3)
    ap.add_argument("--threshold", type=float, help="sign events: the top score a window needs")
    ap.add_argument("--min-windows", type=int, help="sign events: consecutive windows a sign needs")
    ap.add_argument("--events-only", action="store_true", help="print the sign events, not every prediction")
    ap.add_argument("--json", action="store_true", help="print the server's messages as JSON lines")
    return ap.parse_args(argv)


def describe(message):
    kind = message.get("type")
    if kind == "prediction":
        top = ", ".join(f"{p['label']} {p['score']:.3f}" for p in message["predictions"])
        skipped = f"  (skipped {message['skipped']})" if message.get("skipped") else ""
        return f"frames {message['start_frame']:>5}-{message['end_frame']:<5} {top}  [{message['latency_ms']:.1f} ms]{skipped}"
    if kind == "event":
        return (f"EVENT {message['label']:<12} frames {message['start_frame']}-{message['end_frame']} "
                f"score {message['score']:.3f}")
    if kind == "end":
        return (f"end: {message['frames']} frames, {message['windows']} windows, {message['skipped']} skipped, "
                f"{message['events']} events")
    return None


async def run(args):
    recording = synthetic(args.synthetic, args.index) if args.synthetic is not None else read_file(args.file)
    if recording.segments:
        print("truth: " + " ".join(recording.labels), file=sys.stderr)
    events = {k: v for k, v in (("threshold", args.threshold), ("min_windows", args.min_windows)) if v is not None}
    async with await Stream.connect(args.server, args.model, args.api_key) as stream:
        ready = await stream.start(image_width=recording.image_width, image_height=recording.image_height,
                                   window=args.window, stride=args.stride, top_k=args.top_k, events=events or None)
        print(f"ready: model {ready['model']}, window {ready['window']}, stride {ready['stride']}, "
              f"events {json.dumps(ready.get('events'))}", file=sys.stderr)

        def show(message):
            if args.json:
                print(json.dumps(message), flush=True)
            elif not (args.events_only and message.get("type") == "prediction"):
                line = describe(message)
                if line:
                    print(line, flush=True)

        pace = "fast" if args.fast else "lockstep" if args.lockstep else "realtime"
        messages = await stream_recording(stream, recording, pace=pace, fps=args.fps, binary=args.binary,
                                          on_message=show)
    found = [m["label"] for m in messages if m.get("type") == "event"]
    print("events: " + (" ".join(found) or "(none)"), file=sys.stderr)


def main(argv=None):
    args = parse_args(argv)
    try:
        asyncio.run(run(args))
    except (StreamError, SourceError, OSError) as error:
        print(f"signbert_stream: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
