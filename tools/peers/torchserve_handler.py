"""The TorchServe peer of tools/peer_bench.py: a TorchScript SignBERT behind TorchServe's batching.

Each request body is {"inputs": [clip, ...]}; TorchServe hands the handler a list of requests (its batch),
whose clips run as one forward pass; each request gets its own rows back.
"""
import json

import torch
from ts.torch_handler.base_handler import BaseHandler


class SignBERTHandler(BaseHandler):
    def initialize(self, context):
        torch.set_num_threads(1)
        super().initialize(context)

    def preprocess(self, requests):
        clips, counts = [], []
        for request in requests:
            body = request.get("body") or request.get("data")
            if isinstance(body, (bytes, bytearray)):
                body = json.loads(body)
            batch = torch.tensor(body["inputs"], dtype=torch.float32)
            clips.append(batch)
            counts.append(batch.shape[0])
        self._counts = counts
        return torch.cat(clips, dim=0)

    def inference(self, data, *args, **kwargs):
        with torch.inference_mode():
            return self.model(data)

    def postprocess(self, logits):
        answers, start = [], 0
        for count in self._counts:
            rows = logits[start:start + count]
            start += count
            answers.append({"predictions": [{"class_id": int(row.argmax()), "logits": row.tolist()} for row in rows]})
        return answers
