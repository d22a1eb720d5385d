#!/usr/bin/env python3
"""Sign-event accuracy of a running server's live streams on synthetic continuous recordings (issue 21, item 2).

Streams `--count` continuous recordings of 5-10 gestures (tools/gesture_data.py's generate_recording, seed
`--seed`) through `/stream` in lockstep (each window's prediction awaited before the next frames go out, so no
window is skipped and the result does not depend on the machine's speed), and compares the label sequence of
the sign events with the true sequence:

- edit distance (Levenshtein: insertions, deletions, substitutions) per recording; the summary is the total
  distance over the total number of true gestures (the label error rate), and its complement;
- recordings recovered exactly (distance 0);
- substitutions, deletions and insertions counted separately (from the alignment);
- event timing: the share of events whose frames overlap the true segment they are aligned with.

    signbert serve &                       # the bundled demo model
    /work/venv/bin/python tools/stream_accuracy.py --count 50 --seed 1000
    ... --threshold 0.7 --min-windows 2    # other event settings (default: the server's)
    ... --sweep                            # try a grid of event settings on the same windows (no re-streaming)

Needs numpy and `websockets` (the client package clients/python/signbert_stream).
"""
import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "clients/python"))
sys.path.insert(0, str(ROOT / "tools"))
import gesture_data  # noqa: E402
from signbert_stream import Stream, read_landmark_json, stream_recording  # noqa: E402


def alignment(found, truth):
    """Levenshtein distance between two label lists and the operations of one optimal alignment:
    a list of ("match" | "sub" | "del" | "ins", found index or None, truth index or None)."""
    n, m = len(found), len(truth)
    d = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        d[i][0] = i
    for j in range(m + 1):
        d[0][j] = j
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (found[i - 1] != truth[j - 1]))
    ops, i, j = [], n, m
    while i or j:
        if i and j and d[i][j] == d[i - 1][j - 1] + (found[i - 1] != truth[j - 1]):
            ops.append(("match" if found[i - 1] == truth[j - 1] else "sub", i - 1, j - 1))
            i, j = i - 1, j - 1
        elif i and d[i][j] == d[i - 1][j] + 1:
            ops.append(("ins", i - 1, None))  # an event with no true gesture
            i -= 1
        else:
            ops.append(("del", None, j - 1))  # a true gesture with no event
            j -= 1
    return d[n][m], ops[::-1]


def detect(windows, threshold, min_windows):
    """The server's event rule (Sources/InferenceService/Streaming/SignEventDetector.swift) replayed on the
    streamed windows, for --sweep: a window counts for its top label when its score >= threshold; a run of
    consecutive windows counting for one label is an event when it has >= min_windows windows."""
    events, run = [], None
    for start, end, label, score in windows:
        if score >= threshold and run and run[0] == label:
            run[2] = end
            run[3] += 1
            continue
        if run and run[3] >= min_windows:
            events.append({"label": run[0], "start_frame": run[1], "end_frame": run[2]})
        run = [label, start, end, 1] if score >= threshold else None
    if run and run[3] >= min_windows:
        events.append({"label": run[0], "start_frame": run[1], "end_frame": run[2]})
    return events


def score(results):
    """Totals over recordings: results is a list of (events, segments)."""
    total = dict(distance=0, gestures=0, exact=0, sub=0, dele=0, ins=0, events=0, overlapping=0, matched=0)
    for events, segments in results:
        found = [e["label"] for e in events]
        truth = [s.label for s in segments]
        distance, ops = alignment(found, truth)
        total["distance"] += distance
        total["gestures"] += len(truth)
        total["exact"] += distance == 0
        total["events"] += len(found)
        for op, fi, ti in ops:
            if op == "sub":
                total["sub"] += 1
            elif op == "del":
                total["dele"] += 1
            elif op == "ins":
                total["ins"] += 1
            else:
                total["matched"] += 1
                e, s = events[fi], segments[ti]
                total["overlapping"] += e["start_frame"] <= s.end_frame and s.start_frame <= e["end_frame"]
    return total


async def run_one(args, recording):
    async with await Stream.connect(args.server, args.model, args.api_key) as stream:
        events = {k: v for k, v in (("threshold", args.threshold), ("min_windows", args.min_windows))
                  if v is not None}
        ready = await stream.start(image_width=recording.image_width, image_height=recording.image_height,
                                   window=args.window, stride=args.stride, top_k=len(gesture_data.CLASSES),
                                   events=events or None)
        messages = await stream_recording(stream, recording, pace="lockstep", binary=not args.json_frames)
    return ready, messages


async def main_async(args):
    recordings = []
    for clip, segments, params in gesture_data.make_recordings(args.count, args.seed):
        recordings.append(read_landmark_json(gesture_data.recording_document(clip, segments, params)))
    results, windows_per_recording, ready = [], [], None
    started = time.monotonic()
    for i, recording in enumerate(recordings):
        ready, messages = await run_one(args, recording)
        events = [m for m in messages if m["type"] == "event"]
        end = next(m for m in messages if m["type"] == "end")
        if end["skipped"]:
            print(f"warning: recording {i}: {end['skipped']} windows skipped", file=sys.stderr)
        windows = [(m["start_frame"], m["end_frame"], m["predictions"][0]["label"], m["predictions"][0]["score"])
                   for m in messages if m["type"] == "prediction"]
        windows_per_recording.append(windows)
        results.append((events, recording.segments))
        if args.verbose:
            d, _ = alignment([e["label"] for e in events], recording.labels)
            print(f"{i:3d} d={d} truth: {' '.join(recording.labels)}\n      found: {' '.join(e['label'] for e in events)}")
    elapsed = time.monotonic() - started
    total = score(results)
    frames = sum(len(r.frames) for r in recordings)
    summary = {
        "recordings": len(recordings), "seed": args.seed, "frames": frames, "seconds": round(elapsed, 1),
        "window": ready["window"], "stride": ready["stride"], "events_settings": ready.get("events"),
        "true_gestures": total["gestures"], "events": total["events"],
        "edit_distance": total["distance"], "label_error_rate": round(total["distance"] / total["gestures"], 4),
        "accuracy": round(1 - total["distance"] / total["gestures"], 4),
        "exact_recordings": total["exact"], "substitutions": total["sub"], "deletions": total["dele"],
        "insertions": total["ins"],
        "matched_events_overlapping_truth": f"{total['overlapping']}/{total['matched']}",
    }
    print(json.dumps(summary, indent=1))
    if args.sweep:
        print("\nthe server's rule replayed on the same windows:")
        print("threshold min_windows  error rate  exact  sub del ins")
        for threshold in (0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
            for min_windows in (1, 2, 3, 4):
                replay = [(detect(w, threshold, min_windows), r.segments)
                          for w, r in zip(windows_per_recording, recordings)]
                t = score(replay)
                print(f"{threshold:9.1f} {min_windows:11d}  {t['distance'] / t['gestures']:10.3f}  "
                      f"{t['exact']:2d}/{len(recordings)}  {t['sub']:3d} {t['dele']:3d} {t['ins']:3d}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--server", default="http://127.0.0.1:8080")
    ap.add_argument("--model", help="the model's name (default: /stream, the default model)")
    ap.add_argument("--api-key")
    ap.add_argument("--count", type=int, default=50)
    ap.add_argument("--seed", type=int, default=1000)
    ap.add_argument("--window", type=int)
    ap.add_argument("--stride", type=int)
    ap.add_argument("--threshold", type=float)
    ap.add_argument("--min-windows", type=int)
    ap.add_argument("--json-frames", action="store_true", help="send JSON frames (default binary)")
    ap.add_argument("--sweep", action="store_true")
    ap.add_argument("--verbose", action="store_true")
    asyncio.run(main_async(ap.parse_args()))


if __name__ == "__main__":
    main()
