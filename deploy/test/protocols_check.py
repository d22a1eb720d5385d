#!/usr/bin/env python3
"""Against a running signbert (the container): SageMaker's /ping, /invocations, KServe V1's instances route and
the Open Inference Protocol (V2, binary tensors) all answer /predict's logits for the same clips.

    protocols_check.py --url http://127.0.0.1:PORT REQUEST.json ...

Python standard library only (tools/open_inference_client.py). Exit 1 on any mismatch.
"""
import argparse
import json
import struct
import sys
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
from open_inference_client import OpenInferenceClient  # noqa: E402


def post(url, body):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def float32(values):
    return list(struct.unpack(f"<{len(values)}f", struct.pack(f"<{len(values)}f", *values)))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--model-name", default="signbert")
    parser.add_argument("requests", nargs="+")
    args = parser.parse_args()
    problems = []
    with urllib.request.urlopen(args.url + "/ping", timeout=10) as response:
        if response.status != 200 or response.read():
            problems.append("/ping is not 200 with an empty body")
    parsed = urllib.parse.urlparse(args.url)
    client = OpenInferenceClient(parsed.hostname, parsed.port)
    for path in args.requests:
        clips = json.loads(Path(path).read_text())["inputs"]
        reference = float32([x for p in post(args.url + "/predict", {"inputs": clips, "return_logits": True})["predictions"]
                             for x in p["logits"]])
        answers = {
            "/invocations": post(args.url + "/invocations", {"inputs": clips, "return_logits": True}),
            f"/v1/models/{args.model_name}:predict": post(args.url + f"/v1/models/{args.model_name}:predict",
                                                          {"instances": clips, "parameters": {"return_logits": True}}),
        }
        for route, answer in answers.items():
            if float32([x for p in answer["predictions"] for x in p["logits"]]) != reference:
                problems.append(f"{path}: {route} differs from /predict")
        shape = [len(clips), len(clips[0]), len(clips[0][0]), len(clips[0][0][0])]
        flat = [x for clip in clips for frame in clip for joint in frame for x in joint]
        logits, _ = client.infer(args.model_name, "keypoints", flat, shape, binary=True, binary_outputs=True)["logits"]
        if float32(logits) != reference:
            problems.append(f"{path}: V2 binary infer differs from /predict")
    client.close()
    for problem in problems:
        print("FAIL:", problem, file=sys.stderr)
    print(f"{len(args.requests)} requests: /predict, /invocations, V1 instances and V2 binary "
          f"{'agree' if not problems else 'DISAGREE'}")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
