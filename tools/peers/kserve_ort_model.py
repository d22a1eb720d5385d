"""The KServe peer of tools/peer_bench.py: KServe's Python model server with ONNX Runtime, V2 protocol.

    python kserve_ort_model.py --model_name signbert --http_port PORT [--workers 2]

SIGNBERT_ONNX names the exported model; one InferenceSession per worker with one intra-op thread, made in the
worker on its first request (with --workers > 1 KServe pickles the model into each worker process, and a
session cannot be pickled).
"""
import os

import kserve
import numpy as np
import onnxruntime as ort
from kserve import InferOutput, InferRequest, InferResponse


class SignBERTModel(kserve.Model):
    def __init__(self, name):
        super().__init__(name)
        self.session = None
        self.load()

    def load(self):
        self.ready = os.path.exists(os.environ["SIGNBERT_ONNX"])
        return self.ready

    def _session(self):
        if self.session is None:
            options = ort.SessionOptions()
            options.intra_op_num_threads = int(os.environ.get("SIGNBERT_ORT_THREADS", "1"))
            options.inter_op_num_threads = 1
            self.session = ort.InferenceSession(os.environ["SIGNBERT_ONNX"], options,
                                                providers=["CPUExecutionProvider"])
        return self.session

    def predict(self, payload: InferRequest, headers=None, response_headers=None):
        clips = np.asarray(payload.inputs[0].as_numpy(), dtype=np.float32)
        logits = self._session().run(None, {"x": clips})[0]
        output = InferOutput(name="logits", shape=list(logits.shape), datatype="FP32")
        output.set_data_from_numpy(logits, binary_data=False)
        return InferResponse(model_name=self.name, infer_outputs=[output], response_id=payload.id or "0")


if __name__ == "__main__":
    parser = kserve.model_server.parser
    args, _ = parser.parse_known_args()
    kserve.ModelServer().start([SignBERTModel(args.model_name)])
