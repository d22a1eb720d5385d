#!/usr/bin/env python3
"""Writes Tests/SignBERTRuntimeTests/Fixtures/frame-sampling.json: the frame indices the training pipeline
keeps when it brings a clip of n frames to T (spec, "The inputs the model was trained on", step 2), computed
by numpy through tools/signbert_preprocess.py, for the Swift resampler's test. numpy only:

    python3 tools/make_sampling_fixture.py
"""
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from signbert_preprocess import sample_indices  # noqa: E402

cases = []
for t in (64, 16, 12, 7):
    for n in sorted({t + 1, t + 2, 2 * t - 1, 2 * t, 3 * t + 1, 100, 127, 129, 170, 278, 1000, 9999, 10000}):
        if n > t:
            cases.append({"n": n, "T": t, "indices": [int(i) for i in sample_indices(n, t)]})
out = HERE.parent / "Tests/SignBERTRuntimeTests/Fixtures/frame-sampling.json"
out.write_text(json.dumps({"generated_by": "tools/make_sampling_fixture.py (numpy floor(linspace(0, n-1, T)))",
                           "cases": cases}, separators=(",", ":")) + "\n")
print(f"wrote {out} ({len(cases)} cases)")
