"""The do-it-yourself peer of tools/peer_bench.py: FastAPI + ONNX Runtime, as a user would write it.

Started by peer_bench.py as `uvicorn fastapi_ort_app:app --workers 2` with SIGNBERT_ONNX set to the exported
model; each worker owns one InferenceSession with one intra-op thread (the best configuration on 2 cores, see
../shared/perf-notes.md). Same request body as the server's /predict: {"inputs": [clip, ...]}.
"""
import json
import os

import numpy as np
import onnxruntime as ort
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

options = ort.SessionOptions()
options.intra_op_num_threads = int(os.environ.get("SIGNBERT_ORT_THREADS", "1"))
options.inter_op_num_threads = 1
session = ort.InferenceSession(os.environ["SIGNBERT_ONNX"], options, providers=["CPUExecutionProvider"])
app = FastAPI()


@app.get("/ready")
def ready():
    return {"ready": True}


@app.post("/predict")
async def predict(request: Request):
    try:
        clips = np.asarray(json.loads(await request.body())["inputs"], dtype=np.float32)
    except (ValueError, KeyError, TypeError) as error:
        return JSONResponse({"error": str(error)}, status_code=400)
    logits = session.run(None, {"x": clips})[0]
    return {"predictions": [{"class_id": int(row.argmax()), "logits": row.tolist()} for row in logits]}
