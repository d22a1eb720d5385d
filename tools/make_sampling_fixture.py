#!/usr/bin/env python3
"""Writes Tests/SignBERTRuntimeTests/Fixtures/frame-sampling.json: the frame indices the training pipeline
keeps when it brings a clip of n frames to T (spec, "The inputs the model was trained on", step 2: "cases"),
and those its loader keeps when it brings a stored clip of n frames to D = data.num_frames (step 5:
"loader_cases", D = 16 and 64, n < D, n = D, n > D by odd and even differences), computed by numpy through
tools/signbert_preprocess.py, for the Swift tests of ClipFrames. numpy only:

    python3 tools/make_sampling_fixture.py
"""
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
from signbert_preprocess import loader_indices, sample_indices  # noqa: E402

cases = []
for t in (64, 16, 12, 7):
    for n in sorted({t + 1, t + 2, 2 * t - 1, 2 * t, 3 * t + 1, 100, 127, 129, 170, 278, 1000, 9999, 10000}):
        if n > t:
            cases.append({"n": n, "T": t, "indices": [int(i) for i in sample_indices(n, t)]})
loader_cases = []
for d in (16, 64):
    for n in (1, 2, d // 2, d - 1, d, d + 1, d + 2, d + 7, d + 10, 3 * d + 1, 1000):
        loader_cases.append({"n": n, "D": d, "indices": [int(i) for i in loader_indices(n, d)]})
out = HERE.parent / "Tests/SignBERTRuntimeTests/Fixtures/frame-sampling.json"
out.write_text(json.dumps({"generated_by": "tools/make_sampling_fixture.py (numpy floor(linspace(0, n-1, T)))",
                           "cases": cases, "loader_cases": loader_cases}, separators=(",", ":")) + "\n")
print(f"wrote {out} ({len(cases)} cases)")
