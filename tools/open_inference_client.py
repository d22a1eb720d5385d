"""A minimal Open Inference Protocol (KServe V2) client on Python's standard library: JSON and binary tensors
(the binary tensor extension), FP32/FP16/FP64 inputs, for tests and benchmarks. No third-party packages.

    client = OpenInferenceClient("127.0.0.1", 8080)
    client.model_metadata("signbert")
    outputs = client.infer("signbert", "keypoints", values, shape, binary=True)   # {"logits": ([...], shape), ...}
"""
import http.client
import json
import struct

FORMATS = {"FP32": "f", "FP16": "e", "FP64": "d"}


class OpenInferenceError(Exception):
    def __init__(self, status, message):
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


class OpenInferenceClient:
    def __init__(self, host, port, timeout=30):
        self.connection = http.client.HTTPConnection(host, port, timeout=timeout)

    def close(self):
        self.connection.close()

    def _request(self, method, path, body=None, headers=None):
        self.connection.request(method, path, body=body, headers=headers or {})
        response = self.connection.getresponse()
        return response.status, dict((k.lower(), v) for k, v in response.getheaders()), response.read()

    def _get_json(self, path):
        status, _, data = self._request("GET", path)
        document = json.loads(data) if data else {}
        if status != 200:
            raise OpenInferenceError(status, document.get("error", data[:200]))
        return document

    def server_metadata(self):
        return self._get_json("/v2")

    def is_server_live(self):
        return self._request("GET", "/v2/health/live")[0] == 200

    def is_server_ready(self):
        return self._request("GET", "/v2/health/ready")[0] == 200

    def is_model_ready(self, model):
        return self._request("GET", f"/v2/models/{model}/ready")[0] == 200

    def model_metadata(self, model):
        return self._get_json(f"/v2/models/{model}")

    def infer(self, model, input_name, values, shape, datatype="FP32", binary=False, binary_outputs=False,
              outputs=None, request_id=None):
        """values: a flat row-major list of numbers. Returns {output name: (flat values, shape)}."""
        tensor = {"name": input_name, "shape": list(shape), "datatype": datatype}
        request = {"inputs": [tensor]}
        if request_id is not None:
            request["id"] = request_id
        if outputs is not None:
            request["outputs"] = [{"name": name, "parameters": {"binary_data": binary_outputs}} for name in outputs]
        elif binary_outputs:
            request["parameters"] = {"binary_data_output": True}
        if binary:
            payload = struct.pack(f"<{len(values)}{FORMATS[datatype]}", *values)
            tensor["parameters"] = {"binary_data_size": len(payload)}
            header = json.dumps(request).encode()
            body = header + payload
            headers = {"Content-Type": "application/octet-stream", "Inference-Header-Content-Length": str(len(header))}
        else:
            tensor["data"] = list(values)
            body = json.dumps(request).encode()
            headers = {"Content-Type": "application/json"}
        status, response_headers, data = self._request("POST", f"/v2/models/{model}/infer", body, headers)
        return self.parse_response(status, response_headers, data)

    @staticmethod
    def parse_response(status, headers, data):
        header_length = int(headers.get("inference-header-content-length", len(data)))
        document = json.loads(data[:header_length])
        if status != 200:
            raise OpenInferenceError(status, document.get("error"))
        offset = header_length
        result = {}
        for output in document["outputs"]:
            shape = output["shape"]
            if "data" in output:
                values = output["data"]
            else:
                size = output["parameters"]["binary_data_size"]
                values = list(struct.unpack(f"<{size // 4}f", data[offset:offset + size]))
                offset += size
            result[output["name"]] = (values, shape)
        if offset != header_length and offset != len(data):
            raise OpenInferenceError(status, f"binary outputs end at {offset} of {len(data)} bytes")
        return result
