#!/usr/bin/env python3
"""POST requests to a running signbert (in a container) and compare its answers with the host build's
`signbert predict` on the same request: same class, same label, logits within a tolerance.

    predict_compare.py --url http://127.0.0.1:PORT --host-binary BIN --model DIR REQUEST.json ...
    predict_compare.py --url ... --host-binary BIN --model DIR --random 3      # generated clips
    predict_compare.py --url ... --host-binary BIN --checkpoint FILE --path /invocations --random 3

With --expect-label-from-name, a request file named <label>.json must also be predicted as <label>
(the bundled demo model's examples/gestures/). Python standard library only. Exit 1 on any mismatch.
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request


def http(url, body=None, timeout=30):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method="GET" if body is None else "POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


def host_predict(binary, model_flags, body):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(body, handle)
        path = handle.name
    try:
        result = subprocess.run([binary, "predict", *model_flags, "--input", path],
                                capture_output=True, text=True, timeout=120)
    finally:
        os.unlink(path)
    if result.returncode != 0:
        raise SystemExit(f"FAIL: host `signbert predict` exited {result.returncode}: {result.stderr.strip()}")
    return json.loads(result.stdout)


def compare(name, served, host, tolerance, expected_label):
    problems = []
    if len(served["predictions"]) != len(host["predictions"]):
        return [f"{name}: {len(served['predictions'])} predictions from the container, {len(host['predictions'])} from the host"]
    worst = 0.0
    for index, (a, b) in enumerate(zip(served["predictions"], host["predictions"])):
        if a["class_id"] != b["class_id"] or a["label"] != b["label"]:
            problems.append(f"{name} clip {index}: container says {a['label']} ({a['class_id']}), host {b['label']} ({b['class_id']})")
        if len(a["logits"]) != len(b["logits"]):
            problems.append(f"{name} clip {index}: {len(a['logits'])} logits vs {len(b['logits'])}")
            continue
        for x, y in zip(a["logits"], b["logits"]):
            difference = abs(x - y)
            worst = max(worst, difference)
            if difference > tolerance * max(1.0, abs(y)):
                problems.append(f"{name} clip {index}: logit {x} vs host {y} (difference {difference:.3g})")
                break
        if expected_label is not None and a["label"] != expected_label:
            problems.append(f"{name} clip {index}: predicted {a['label']}, the example is {expected_label}")
    labels = ", ".join(f"{p['label']} {p['score']:.3f}" for p in served["predictions"])
    print(f"  {name}: {labels}; max |logit difference| vs host {worst:.2e}" + ("" if not problems else "  <-- MISMATCH"))
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True, help="the server's base URL, e.g. http://127.0.0.1:8080")
    parser.add_argument("--host-binary", required=True)
    model = parser.add_mutually_exclusive_group(required=True)
    model.add_argument("--model", help="the model directory the host build loads (same as the container's)")
    model.add_argument("--checkpoint", help="or the checkpoint file (its config.yaml and labels beside it)")
    parser.add_argument("--path", default="/predict", help="the route to POST to (default /predict; /invocations takes the same body)")
    parser.add_argument("--instances-path", help="also POST the clips as {\"instances\": [...]} here (e.g. Vertex AI's AIP_PREDICT_ROUTE)")
    parser.add_argument("--random", type=int, default=0, metavar="N", help="also send N generated clips in one request")
    parser.add_argument("--expect-label-from-name", action="store_true")
    parser.add_argument("--tolerance", type=float, default=1e-4, help="largest logit difference (relative above 1)")
    parser.add_argument("requests", nargs="*")
    args = parser.parse_args()

    status, info = http(args.url.rstrip("/") + "/")
    if status != 200:
        raise SystemExit(f"FAIL: GET / answered {status}: {info}")
    bodies = []
    for path in args.requests:
        with open(path) as handle:
            body = json.load(handle)
        label = os.path.splitext(os.path.basename(path))[0] if args.expect_label_from_name else None
        bodies.append((os.path.relpath(path), body, label))
    if args.random:
        frames, joints, coords = info["input_shape"]["clip"]
        rng = random.Random(20250520)
        clips = [[[[round(rng.uniform(-1, 1), 4) for _ in range(coords)] for _ in range(joints)] for _ in range(frames)]
                 for _ in range(args.random)]
        bodies.append((f"{args.random} generated clips [{frames}][{joints}][{coords}]", {"inputs": clips}, None))
    if not bodies:
        raise SystemExit("FAIL: no request to send")

    problems = []
    for name, body, label in bodies:
        body = dict(body, return_logits=True)
        status, served = http(args.url.rstrip("/") + args.path, body)
        if status != 200:
            problems.append(f"{name}: POST {args.path} answered {status}: {served}")
            continue
        flags = ["--model", args.model] if args.model else ["--checkpoint", args.checkpoint]
        host = host_predict(args.host_binary, flags, body)
        problems += compare(name, served, host, args.tolerance, label)
        if args.instances_path:
            instances = {"instances": body["inputs"], "parameters": {"return_logits": True}}
            status, served = http(args.url.rstrip("/") + args.instances_path, instances)
            if status != 200:
                problems.append(f"{name}: POST {args.instances_path} answered {status}: {served}")
                continue
            problems += compare(f"{name} as instances at {args.instances_path}", served, host, args.tolerance, label)
    if problems:
        print("FAIL: the container's predictions differ from the host build's:", *problems, sep="\n  ", file=sys.stderr)
        return 1
    print(f"  {len(bodies)} request(s): the container's predictions match the host build's")
    return 0


if __name__ == "__main__":
    sys.exit(main())
