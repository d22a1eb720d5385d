import Foundation
import SignBERTRuntime

/// The OpenAPI 3 document of every route, served at `GET /openapi.json` (and written to docs/openapi.json by
/// `signbert openapi`). The template's `__NAME__` placeholders take the loaded model's geometry and the
/// service's limits, so the schemas say exactly which shapes this server accepts; Vertex AI's routes, when
/// set, are added as copies of the instances route.
enum OpenAPIDocument {
    static func served(config: SignBERTConfig, preparation: ClipPreparation, configuration: ServiceConfiguration) -> [UInt8] {
        let values: [(String, String)] = [
            ("__CLIP_FRAMES__", String(preparation.frames)),
            ("__PREPROCESSING__", "\(preparation.centre.rawValue)-centred (the preprocessing of training commit "
                + "\(preparation.centre.commit): \(preparation.centreSource))"),
            ("__NUM_JOINTS__", String(config.numJoints)),
            ("__NUM_COORDS__", String(config.numCoords)),
            ("__NUM_FEATURES__", String(config.inputFeatures)),
            ("__NUM_FRAMES__", String(config.numFrames)),
            ("__MAX_FRAMES__", String(configuration.maxFrames)),
            ("__MAX_BATCH__", String(configuration.maxClipsPerRequest)),
        ]
        var text = template.replacingOccurrences(of: "__SERVER_VERSION__", with: InferenceServer.version)
        for (placeholder, value) in values {
            // A quoted placeholder stands for a JSON number; inside descriptions it is plain text.
            text = text.replacingOccurrences(of: "\"\(placeholder)\"", with: value)
            text = text.replacingOccurrences(of: placeholder, with: value)
        }
        let quotedName = JSONWriter.quoted(configuration.modelName)
        text = text.replacingOccurrences(of: "__MODEL_NAME__", with: String(quotedName.dropFirst().dropLast()))
        var extraPaths = ""
        if let route = configuration.vertexPredictRoute {
            extraPaths += "\n    \(JSONWriter.quoted(route)): {\"post\": {\"summary\": \"Vertex AI's prediction route (AIP_PREDICT_ROUTE): instances in, predictions out\", \"operationId\": \"vertexPredict\", \"requestBody\": {\"$ref\": \"#/components/requestBodies/Instances\"}, \"responses\": {\"200\": {\"$ref\": \"#/components/responses/Predictions\"}, \"400\": {\"$ref\": \"#/components/responses/Error400\"}, \"413\": {\"$ref\": \"#/components/responses/Error413\"}, \"415\": {\"$ref\": \"#/components/responses/Error415\"}, \"503\": {\"$ref\": \"#/components/responses/Error503\"}, \"504\": {\"$ref\": \"#/components/responses/Error504\"}}}},"
        }
        if let route = configuration.vertexHealthRoute {
            extraPaths += "\n    \(JSONWriter.quoted(route)): {\"get\": {\"summary\": \"Vertex AI's health route (AIP_HEALTH_ROUTE): 200 once ready\", \"operationId\": \"vertexHealth\", \"responses\": {\"200\": {\"description\": \"Ready\", \"content\": {\"application/json\": {\"schema\": {\"$ref\": \"#/components/schemas/Status\"}}}}, \"503\": {\"$ref\": \"#/components/responses/Error503\"}}}},"
        }
        if !extraPaths.isEmpty {
            text = text.replacingOccurrences(of: "\"paths\": {", with: "\"paths\": {" + extraPaths)
        }
        guard !configuration.apiKeys.isEmpty else { return Array(text.utf8) }
        return withBearerSecurity(Array(text.utf8), protectMetrics: configuration.protectMetrics)
    }

    /// With API keys, the document declares the bearer scheme on every POST (and `/metrics` when protected)
    /// and their 401, so clients and tools know to send the key.
    static func withBearerSecurity(_ document: [UInt8], protectMetrics: Bool) -> [UInt8] {
        guard var root = (try? JSONSerialization.jsonObject(with: Data(document))) as? [String: Any],
              var paths = root["paths"] as? [String: Any],
              var components = root["components"] as? [String: Any] else { return document }
        components["securitySchemes"] = ["bearer": ["type": "http", "scheme": "bearer"]]
        var responses = components["responses"] as? [String: Any] ?? [:]
        responses["Error401"] = ["description": "Missing or wrong API key (Authorization: Bearer <key>)",
                                 "content": ["application/json": ["schema": ["$ref": "#/components/schemas/Error"]]]]
        components["responses"] = responses
        for (path, value) in paths {
            guard var item = value as? [String: Any] else { continue }
            for method in ["post", "get"] {
                guard var operation = item[method] as? [String: Any],
                      method == "post" || (protectMetrics && path == "/metrics") else { continue }
                operation["security"] = [["bearer": [String]()]]
                var codes = operation["responses"] as? [String: Any] ?? [:]
                codes["401"] = ["$ref": "#/components/responses/Error401"]
                operation["responses"] = codes
                item[method] = operation
            }
            paths[path] = item
        }
        root["paths"] = paths
        root["components"] = components
        guard let data = try? JSONSerialization.data(withJSONObject: root, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        else { return document }
        return Array(data)
    }

    static let template = #"""
{
  "openapi": "3.0.3",
  "info": {
    "title": "SignBERT inference server",
    "version": "__SERVER_VERSION__",
    "description": "Sign-language recognition with a SignBERT model. Clips are skeleton keypoints: [frames][__NUM_JOINTS__ joints][__NUM_COORDS__ coords] or [frames][__NUM_FEATURES__ features] numbers, raw MediaPipe Holistic landmarks, or .pose files. Raw landmarks and .pose files are preprocessed as in training (interpolation, 64 frames, the 27 joints, __PREPROCESSING__ normalisation), then brought to the __CLIP_FRAMES__ frames the model was trained on as its training loader did (the centre frames of a longer clip, the last frame repeated for a shorter one); feature arrays get only that last step. A request may carry up to __MAX_BATCH__ clips; more clips than a batch holds are computed over several batches and answered once. Every error is a JSON object {\"error\": \"...\"}."
  },
  "paths": {
    "/": {
      "get": {
        "summary": "The model: architecture, labels, limits",
        "operationId": "describe",
        "responses": {
          "200": {
            "description": "The model's description, with \"status\": \"alive\" (what KServe V1 clients read for liveness)",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "required": [
                    "status"
                  ],
                  "properties": {
                    "status": {
                      "type": "string",
                      "enum": [
                        "alive"
                      ]
                    }
                  }
                }
              }
            }
          }
        }
      }
    },
    "/health": {
      "get": {
        "summary": "Liveness: the process answers",
        "operationId": "health",
        "responses": {
          "200": {
            "description": "Alive",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Status"
                }
              }
            }
          }
        }
      }
    },
    "/ready": {
      "get": {
        "summary": "Readiness: 200 once the model is warm, 503 while starting or draining",
        "operationId": "ready",
        "responses": {
          "200": {
            "description": "Ready",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Status"
                }
              }
            }
          },
          "503": {
            "description": "Not ready (starting, draining or stopped)",
            "headers": {
              "Retry-After": {
                "schema": {
                  "type": "string"
                }
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Status"
                }
              }
            }
          }
        }
      }
    },
    "/metrics": {
      "get": {
        "summary": "Prometheus metrics",
        "operationId": "metrics",
        "responses": {
          "200": {
            "description": "Prometheus text format 0.0.4",
            "content": {
              "text/plain": {
                "schema": {
                  "type": "string"
                }
              }
            }
          }
        }
      }
    },
    "/openapi.json": {
      "get": {
        "summary": "This document",
        "operationId": "openapi",
        "responses": {
          "200": {
            "description": "OpenAPI 3 document",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object"
                }
              }
            }
          }
        }
      }
    },
    "/predict": {
      "post": {
        "summary": "Predict the signs of one or more clips",
        "operationId": "predict",
        "parameters": [
          {
            "$ref": "#/components/parameters/TopK"
          },
          {
            "$ref": "#/components/parameters/ReturnLogits"
          },
          {
            "$ref": "#/components/parameters/Frames"
          }
        ],
        "requestBody": {
          "$ref": "#/components/requestBodies/Predict"
        },
        "responses": {
          "200": {
            "$ref": "#/components/responses/Predictions"
          },
          "400": {
            "$ref": "#/components/responses/Error400"
          },
          "413": {
            "$ref": "#/components/responses/Error413"
          },
          "415": {
            "$ref": "#/components/responses/Error415"
          },
          "503": {
            "$ref": "#/components/responses/Error503"
          },
          "504": {
            "$ref": "#/components/responses/Error504"
          }
        }
      }
    },
    "/invocations": {
      "post": {
        "summary": "SageMaker's inference route: the same contract as /predict",
        "operationId": "invocations",
        "parameters": [
          {
            "$ref": "#/components/parameters/TopK"
          },
          {
            "$ref": "#/components/parameters/ReturnLogits"
          },
          {
            "$ref": "#/components/parameters/Frames"
          }
        ],
        "requestBody": {
          "$ref": "#/components/requestBodies/Predict"
        },
        "responses": {
          "200": {
            "$ref": "#/components/responses/Predictions"
          },
          "400": {
            "$ref": "#/components/responses/Error400"
          },
          "413": {
            "$ref": "#/components/responses/Error413"
          },
          "415": {
            "$ref": "#/components/responses/Error415"
          },
          "503": {
            "$ref": "#/components/responses/Error503"
          },
          "504": {
            "$ref": "#/components/responses/Error504"
          }
        }
      }
    },
    "/ping": {
      "get": {
        "summary": "SageMaker's health check: 200 with an empty body once ready",
        "operationId": "ping",
        "responses": {
          "200": {
            "description": "Ready (empty body)"
          },
          "503": {
            "$ref": "#/components/responses/Error503"
          }
        }
      }
    },
    "/v1/models/__MODEL_NAME__": {
      "get": {
        "summary": "KServe V1 model status",
        "operationId": "v1ModelStatus",
        "responses": {
          "200": {
            "description": "Ready",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ModelReady"
                }
              }
            }
          },
          "503": {
            "description": "Not ready",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ModelReady"
                }
              }
            }
          }
        }
      }
    },
    "/v1/models/__MODEL_NAME__:predict": {
      "post": {
        "summary": "Instances in, predictions out (KServe V1, TensorFlow Serving and Vertex AI's contract)",
        "operationId": "v1Predict",
        "requestBody": {
          "$ref": "#/components/requestBodies/Instances"
        },
        "responses": {
          "200": {
            "$ref": "#/components/responses/Predictions"
          },
          "400": {
            "$ref": "#/components/responses/Error400"
          },
          "413": {
            "$ref": "#/components/responses/Error413"
          },
          "415": {
            "$ref": "#/components/responses/Error415"
          },
          "503": {
            "$ref": "#/components/responses/Error503"
          },
          "504": {
            "$ref": "#/components/responses/Error504"
          }
        }
      }
    },
    "/v2": {
      "get": {
        "summary": "Open Inference Protocol: server metadata",
        "operationId": "v2ServerMetadata",
        "responses": {
          "200": {
            "description": "Server metadata",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ServerMetadata"
                }
              }
            }
          }
        }
      }
    },
    "/v2/health/live": {
      "get": {
        "summary": "Open Inference Protocol: server liveness",
        "operationId": "v2Live",
        "responses": {
          "200": {
            "description": "Live",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "properties": {
                    "live": {
                      "type": "boolean"
                    }
                  },
                  "required": [
                    "live"
                  ]
                }
              }
            }
          }
        }
      }
    },
    "/v2/health/ready": {
      "get": {
        "summary": "Open Inference Protocol: server readiness",
        "operationId": "v2Ready",
        "responses": {
          "200": {
            "description": "Ready",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Ready"
                }
              }
            }
          },
          "503": {
            "description": "Not ready",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Ready"
                }
              }
            }
          }
        }
      }
    },
    "/v2/models/{model_name}": {
      "parameters": [
        {
          "$ref": "#/components/parameters/ModelName"
        }
      ],
      "get": {
        "summary": "Open Inference Protocol: model metadata",
        "operationId": "v2ModelMetadata",
        "responses": {
          "200": {
            "description": "Model metadata",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ModelMetadata"
                }
              }
            }
          },
          "404": {
            "$ref": "#/components/responses/Error404"
          }
        }
      }
    },
    "/v2/models/{model_name}/ready": {
      "parameters": [
        {
          "$ref": "#/components/parameters/ModelName"
        }
      ],
      "get": {
        "summary": "Open Inference Protocol: model readiness",
        "operationId": "v2ModelReady",
        "responses": {
          "200": {
            "description": "Ready",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ModelReady"
                }
              }
            }
          },
          "503": {
            "description": "Not ready",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ModelReady"
                }
              }
            }
          },
          "404": {
            "$ref": "#/components/responses/Error404"
          }
        }
      }
    },
    "/v2/models/{model_name}/infer": {
      "parameters": [
        {
          "$ref": "#/components/parameters/ModelName"
        }
      ],
      "post": {
        "summary": "Open Inference Protocol: inference (JSON or binary tensors)",
        "operationId": "v2Infer",
        "parameters": [
          {
            "name": "Inference-Header-Content-Length",
            "in": "header",
            "required": false,
            "schema": {
              "type": "integer",
              "minimum": 1
            },
            "description": "Binary tensor extension: the length of the JSON part of the body"
          }
        ],
        "requestBody": {
          "$ref": "#/components/requestBodies/Infer"
        },
        "responses": {
          "200": {
            "description": "The outputs (binary outputs follow the JSON part, whose length is in Inference-Header-Content-Length)",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/InferResponse"
                }
              },
              "application/octet-stream": {
                "schema": {
                  "type": "string",
                  "format": "binary"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Error400"
          },
          "404": {
            "$ref": "#/components/responses/Error404"
          },
          "413": {
            "$ref": "#/components/responses/Error413"
          },
          "415": {
            "$ref": "#/components/responses/Error415"
          },
          "503": {
            "$ref": "#/components/responses/Error503"
          },
          "504": {
            "$ref": "#/components/responses/Error504"
          }
        }
      }
    },
    "/v2/models/{model_name}/versions/{model_version}": {
      "parameters": [
        {
          "$ref": "#/components/parameters/ModelName"
        },
        {
          "$ref": "#/components/parameters/ModelVersion"
        }
      ],
      "get": {
        "summary": "Open Inference Protocol: model metadata",
        "operationId": "v2ModelMetadataVersion",
        "responses": {
          "200": {
            "description": "Model metadata",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ModelMetadata"
                }
              }
            }
          },
          "404": {
            "$ref": "#/components/responses/Error404"
          }
        }
      }
    },
    "/v2/models/{model_name}/versions/{model_version}/ready": {
      "parameters": [
        {
          "$ref": "#/components/parameters/ModelName"
        },
        {
          "$ref": "#/components/parameters/ModelVersion"
        }
      ],
      "get": {
        "summary": "Open Inference Protocol: model readiness",
        "operationId": "v2ModelReadyVersion",
        "responses": {
          "200": {
            "description": "Ready",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ModelReady"
                }
              }
            }
          },
          "503": {
            "description": "Not ready",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ModelReady"
                }
              }
            }
          },
          "404": {
            "$ref": "#/components/responses/Error404"
          }
        }
      }
    },
    "/v2/models/{model_name}/versions/{model_version}/infer": {
      "parameters": [
        {
          "$ref": "#/components/parameters/ModelName"
        },
        {
          "$ref": "#/components/parameters/ModelVersion"
        }
      ],
      "post": {
        "summary": "Open Inference Protocol: inference (JSON or binary tensors)",
        "operationId": "v2InferVersion",
        "parameters": [
          {
            "name": "Inference-Header-Content-Length",
            "in": "header",
            "required": false,
            "schema": {
              "type": "integer",
              "minimum": 1
            },
            "description": "Binary tensor extension: the length of the JSON part of the body"
          }
        ],
        "requestBody": {
          "$ref": "#/components/requestBodies/Infer"
        },
        "responses": {
          "200": {
            "description": "The outputs (binary outputs follow the JSON part, whose length is in Inference-Header-Content-Length)",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/InferResponse"
                }
              },
              "application/octet-stream": {
                "schema": {
                  "type": "string",
                  "format": "binary"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Error400"
          },
          "404": {
            "$ref": "#/components/responses/Error404"
          },
          "413": {
            "$ref": "#/components/responses/Error413"
          },
          "415": {
            "$ref": "#/components/responses/Error415"
          },
          "503": {
            "$ref": "#/components/responses/Error503"
          },
          "504": {
            "$ref": "#/components/responses/Error504"
          }
        }
      }
    }
  },
  "components": {
    "parameters": {
      "ModelName": {
        "name": "model_name",
        "in": "path",
        "required": true,
        "schema": {
          "type": "string",
          "enum": [
            "__MODEL_NAME__"
          ]
        },
        "description": "The served model's name (__MODEL_NAME__); any other name is a 404."
      },
      "ModelVersion": {
        "name": "model_version",
        "in": "path",
        "required": true,
        "schema": {
          "type": "string",
          "enum": [
            "1"
          ]
        },
        "description": "The model's version; it has one, \"1\"."
      },
      "TopK": {
        "name": "top_k",
        "in": "query",
        "required": false,
        "schema": {
          "type": "integer",
          "minimum": 1
        },
        "description": "For an application/x-pose body: how many classes to rank (default 5). A JSON body carries its options in the body."
      },
      "ReturnLogits": {
        "name": "return_logits",
        "in": "query",
        "required": false,
        "schema": {
          "type": "boolean"
        },
        "description": "For an application/x-pose body: include the logits."
      },
      "Frames": {
        "name": "frames",
        "in": "query",
        "required": false,
        "schema": {
          "type": "string",
          "nullable": true,
          "enum": [
            "sample",
            "exact",
            null
          ],
          "default": "sample",
          "description": "sample: a clip of any length is brought to the __CLIP_FRAMES__ frames the model was trained on (data.num_frames) as the training loader did: the centre frames of a longer clip, the last frame repeated for a shorter one; exact: a clip must have exactly __CLIP_FRAMES__ frames."
        },
        "description": "For an application/x-pose body: sample (default) or exact."
      }
    },
    "requestBodies": {
      "Predict": {
        "required": true,
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/PredictRequest"
            }
          },
          "application/x-pose": {
            "schema": {
              "type": "string",
              "format": "binary",
              "description": "A .pose file (pose-format) with MediaPipe Holistic components; it is one clip."
            }
          }
        }
      },
      "Instances": {
        "required": true,
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/InstancesRequest"
            }
          }
        }
      },
      "Infer": {
        "required": true,
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/InferRequest"
            }
          },
          "application/octet-stream": {
            "schema": {
              "type": "string",
              "format": "binary",
              "description": "Binary tensor extension: the JSON inference request (Inference-Header-Content-Length bytes) followed by the input's raw little-endian bytes."
            }
          }
        }
      }
    },
    "responses": {
      "Predictions": {
        "description": "One prediction per clip, in order",
        "headers": {
          "X-Batch-Size": {
            "schema": {
              "type": "string"
            },
            "description": "Clips in the batch this request ran in"
          }
        },
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/PredictResponse"
            }
          }
        }
      },
      "Error400": {
        "description": "The request is malformed or does not fit the model; the message names the field and why",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "Error404": {
        "description": "Unknown model or version",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "Error413": {
        "description": "The body is larger than the server's limit",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "Error415": {
        "description": "The Content-Type is not one this route takes",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "Error503": {
        "description": "Not ready, draining, or at capacity (Retry-After says when to retry)",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "Error504": {
        "description": "The request waited longer than the request timeout",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      }
    },
    "schemas": {
      "Error": {
        "type": "object",
        "properties": {
          "error": {
            "type": "string"
          }
        },
        "required": [
          "error"
        ]
      },
      "Status": {
        "type": "object",
        "properties": {
          "status": {
            "type": "string",
            "enum": [
              "alive",
              "ready",
              "starting",
              "draining",
              "stopped"
            ]
          }
        },
        "required": [
          "status"
        ]
      },
      "Ready": {
        "type": "object",
        "properties": {
          "ready": {
            "type": "boolean"
          }
        },
        "required": [
          "ready"
        ]
      },
      "ModelReady": {
        "type": "object",
        "properties": {
          "name": {
            "type": "string"
          },
          "ready": {
            "type": "boolean"
          }
        },
        "required": [
          "name",
          "ready"
        ]
      },
      "Coordinate": {
        "type": "number",
        "minimum": -3.4e+38,
        "maximum": 3.4e+38
      },
      "JointsFrame": {
        "type": "array",
        "minItems": "__NUM_JOINTS__",
        "maxItems": "__NUM_JOINTS__",
        "items": {
          "type": "array",
          "minItems": "__NUM_COORDS__",
          "maxItems": "__NUM_COORDS__",
          "items": {
            "$ref": "#/components/schemas/Coordinate"
          }
        }
      },
      "FeaturesFrame": {
        "type": "array",
        "minItems": "__NUM_FEATURES__",
        "maxItems": "__NUM_FEATURES__",
        "items": {
          "$ref": "#/components/schemas/Coordinate"
        }
      },
      "KeypointClip": {
        "description": "A clip of n frames (1 <= n <= __MAX_FRAMES__), each [__NUM_JOINTS__][__NUM_COORDS__] or [__NUM_FEATURES__] numbers; all frames of a clip alike.",
        "type": "array",
        "minItems": 1,
        "maxItems": "__MAX_FRAMES__",
        "items": {
          "anyOf": [
            {
              "$ref": "#/components/schemas/JointsFrame"
            },
            {
              "$ref": "#/components/schemas/FeaturesFrame"
            }
          ]
        }
      },
      "PoseLandmark": {
        "description": "A MediaPipe pose landmark, x and y normalised to the image: [x, y, z, visibility] or MediaPipe's object (other keys, such as presence, are ignored).",
        "anyOf": [
          {
            "type": "array",
            "minItems": 4,
            "maxItems": 4,
            "items": {
              "$ref": "#/components/schemas/Coordinate"
            }
          },
          {
            "type": "object",
            "properties": {
              "x": {
                "$ref": "#/components/schemas/Coordinate"
              },
              "y": {
                "$ref": "#/components/schemas/Coordinate"
              },
              "z": {
                "$ref": "#/components/schemas/Coordinate"
              },
              "visibility": {
                "$ref": "#/components/schemas/Coordinate"
              }
            },
            "required": [
              "x",
              "y",
              "z",
              "visibility"
            ]
          }
        ]
      },
      "HandLandmark": {
        "description": "A MediaPipe hand landmark: [x, y, z], [x, y, z, visibility] (not used) or MediaPipe's object.",
        "anyOf": [
          {
            "type": "array",
            "minItems": 3,
            "maxItems": 4,
            "items": {
              "$ref": "#/components/schemas/Coordinate"
            }
          },
          {
            "type": "object",
            "properties": {
              "x": {
                "$ref": "#/components/schemas/Coordinate"
              },
              "y": {
                "$ref": "#/components/schemas/Coordinate"
              },
              "z": {
                "$ref": "#/components/schemas/Coordinate"
              },
              "visibility": {
                "$ref": "#/components/schemas/Coordinate"
              }
            },
            "required": [
              "x",
              "y",
              "z"
            ]
          }
        ]
      },
      "HolisticFrame": {
        "type": "object",
        "additionalProperties": false,
        "description": "One frame of MediaPipe Holistic output; a part that was not detected is null or absent; face is accepted and ignored.",
        "properties": {
          "pose": {
            "type": "array",
            "nullable": true,
            "minItems": 33,
            "maxItems": 33,
            "items": {
              "$ref": "#/components/schemas/PoseLandmark"
            }
          },
          "left_hand": {
            "type": "array",
            "nullable": true,
            "minItems": 21,
            "maxItems": 21,
            "items": {
              "$ref": "#/components/schemas/HandLandmark"
            }
          },
          "right_hand": {
            "type": "array",
            "nullable": true,
            "minItems": 21,
            "maxItems": 21,
            "items": {
              "$ref": "#/components/schemas/HandLandmark"
            }
          },
          "face": {
            "description": "Ignored"
          }
        }
      },
      "HolisticClip": {
        "type": "object",
        "additionalProperties": false,
        "description": "Raw MediaPipe Holistic landmarks; the server does the training pipeline's preprocessing (pixel coordinates, interpolation of missing points, frame sampling, the 27-joint mapping, neck-centred shoulder-width normalisation). Models with the mediapipe_27 layout (27 joints x 3) only.",
        "properties": {
          "image_width": {
            "type": "integer",
            "minimum": 1,
            "maximum": 65535
          },
          "image_height": {
            "type": "integer",
            "minimum": 1,
            "maximum": 65535
          },
          "frames": {
            "type": "array",
            "minItems": 1,
            "maxItems": "__MAX_FRAMES__",
            "items": {
              "$ref": "#/components/schemas/HolisticFrame"
            }
          }
        },
        "required": [
          "image_width",
          "image_height",
          "frames"
        ]
      },
      "Clip": {
        "anyOf": [
          {
            "$ref": "#/components/schemas/KeypointClip"
          },
          {
            "$ref": "#/components/schemas/HolisticClip"
          }
        ]
      },
      "PredictRequest": {
        "type": "object",
        "required": [
          "inputs"
        ],
        "properties": {
          "inputs": {
            "type": "array",
            "minItems": 1,
            "maxItems": "__MAX_BATCH__",
            "items": {
              "$ref": "#/components/schemas/Clip"
            }
          },
          "top_k": {
            "type": "integer",
            "nullable": true,
            "minimum": 1,
            "description": "Classes ranked per clip (default 5; more than the model has gives all)"
          },
          "return_logits": {
            "type": "boolean",
            "nullable": true,
            "default": false
          },
          "frames": {
            "type": "string",
            "nullable": true,
            "enum": [
              "sample",
              "exact",
              null
            ],
            "default": "sample",
            "description": "sample: a clip of any length is brought to the __CLIP_FRAMES__ frames the model was trained on (data.num_frames) as the training loader did: the centre frames of a longer clip, the last frame repeated for a shorter one; exact: a clip must have exactly __CLIP_FRAMES__ frames."
          }
        }
      },
      "InstancesRequest": {
        "type": "object",
        "required": [
          "instances"
        ],
        "properties": {
          "instances": {
            "type": "array",
            "minItems": 1,
            "maxItems": "__MAX_BATCH__",
            "items": {
              "$ref": "#/components/schemas/Clip"
            }
          },
          "parameters": {
            "type": "object",
            "nullable": true,
            "additionalProperties": false,
            "properties": {
              "top_k": {
                "type": "integer",
                "nullable": true,
                "minimum": 1
              },
              "return_logits": {
                "type": "boolean",
                "nullable": true
              },
              "frames": {
                "type": "string",
                "nullable": true,
                "enum": [
                  "sample",
                  "exact",
                  null
                ],
                "default": "sample",
                "description": "sample: a clip of any length is brought to the __CLIP_FRAMES__ frames the model was trained on (data.num_frames) as the training loader did: the centre frames of a longer clip, the last frame repeated for a shorter one; exact: a clip must have exactly __CLIP_FRAMES__ frames."
              }
            }
          }
        }
      },
      "Ranked": {
        "type": "object",
        "required": [
          "class_id",
          "label",
          "score"
        ],
        "properties": {
          "class_id": {
            "type": "integer"
          },
          "label": {
            "type": "string"
          },
          "score": {
            "type": "number"
          }
        }
      },
      "Prediction": {
        "type": "object",
        "required": [
          "class_id",
          "label",
          "score",
          "top_k"
        ],
        "properties": {
          "class_id": {
            "type": "integer"
          },
          "label": {
            "type": "string"
          },
          "score": {
            "type": "number",
            "description": "Softmax probability of the top class"
          },
          "top_k": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/Ranked"
            }
          },
          "logits": {
            "type": "array",
            "items": {
              "type": "number"
            }
          }
        }
      },
      "PredictResponse": {
        "type": "object",
        "required": [
          "predictions"
        ],
        "properties": {
          "predictions": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/Prediction"
            }
          }
        }
      },
      "NestedNumbers": {
        "type": "array",
        "items": {
          "anyOf": [
            {
              "$ref": "#/components/schemas/Coordinate"
            },
            {
              "$ref": "#/components/schemas/NestedNumbers"
            }
          ]
        }
      },
      "ServerMetadata": {
        "type": "object",
        "required": [
          "name",
          "version",
          "extensions"
        ],
        "properties": {
          "name": {
            "type": "string"
          },
          "version": {
            "type": "string"
          },
          "extensions": {
            "type": "array",
            "items": {
              "type": "string"
            }
          }
        }
      },
      "TensorMetadata": {
        "type": "object",
        "required": [
          "name",
          "datatype",
          "shape"
        ],
        "properties": {
          "name": {
            "type": "string"
          },
          "datatype": {
            "type": "string"
          },
          "shape": {
            "type": "array",
            "items": {
              "type": "integer"
            }
          }
        }
      },
      "ModelMetadata": {
        "type": "object",
        "required": [
          "name",
          "versions",
          "platform",
          "inputs",
          "outputs"
        ],
        "properties": {
          "name": {
            "type": "string"
          },
          "versions": {
            "type": "array",
            "items": {
              "type": "string"
            }
          },
          "platform": {
            "type": "string"
          },
          "inputs": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/TensorMetadata"
            }
          },
          "outputs": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/TensorMetadata"
            }
          }
        }
      },
      "InferInput": {
        "type": "object",
        "required": [
          "name",
          "shape",
          "datatype"
        ],
        "properties": {
          "name": {
            "type": "string",
            "enum": [
              "keypoints"
            ]
          },
          "shape": {
            "type": "array",
            "minItems": 3,
            "maxItems": 4,
            "items": {
              "type": "integer",
              "minimum": 0
            },
            "description": "[B, T, __NUM_JOINTS__, __NUM_COORDS__] or [B, T, __NUM_FEATURES__]; B <= __MAX_BATCH__, T <= __MAX_FRAMES__ (brought to __CLIP_FRAMES__ frames by a centre crop or by repeating the last frame, unless parameters.frames is exact)"
          },
          "datatype": {
            "type": "string",
            "enum": [
              "FP32",
              "FP16",
              "FP64"
            ]
          },
          "data": {
            "$ref": "#/components/schemas/NestedNumbers"
          },
          "parameters": {
            "type": "object",
            "nullable": true,
            "properties": {
              "binary_data_size": {
                "type": "integer",
                "nullable": true,
                "minimum": 0
              }
            }
          }
        }
      },
      "InferOutputRequest": {
        "type": "object",
        "required": [
          "name"
        ],
        "properties": {
          "name": {
            "type": "string",
            "enum": [
              "logits",
              "probabilities"
            ]
          },
          "parameters": {
            "type": "object",
            "nullable": true,
            "properties": {
              "binary_data": {
                "type": "boolean",
                "nullable": true
              }
            }
          }
        }
      },
      "InferRequest": {
        "type": "object",
        "required": [
          "inputs"
        ],
        "properties": {
          "id": {
            "type": "string",
            "nullable": true
          },
          "parameters": {
            "type": "object",
            "nullable": true,
            "properties": {
              "binary_data_output": {
                "type": "boolean",
                "nullable": true
              },
              "frames": {
                "type": "string",
                "nullable": true,
                "enum": [
                  "sample",
                  "exact",
                  null
                ],
                "default": "sample",
                "description": "sample: a clip of any length is brought to the __CLIP_FRAMES__ frames the model was trained on (data.num_frames) as the training loader did: the centre frames of a longer clip, the last frame repeated for a shorter one; exact: a clip must have exactly __CLIP_FRAMES__ frames."
              }
            }
          },
          "inputs": {
            "type": "array",
            "minItems": 1,
            "maxItems": 1,
            "items": {
              "$ref": "#/components/schemas/InferInput"
            }
          },
          "outputs": {
            "type": "array",
            "nullable": true,
            "minItems": 1,
            "items": {
              "$ref": "#/components/schemas/InferOutputRequest"
            }
          }
        }
      },
      "InferOutput": {
        "type": "object",
        "required": [
          "name",
          "datatype",
          "shape"
        ],
        "properties": {
          "name": {
            "type": "string"
          },
          "datatype": {
            "type": "string"
          },
          "shape": {
            "type": "array",
            "items": {
              "type": "integer"
            }
          },
          "data": {
            "type": "array",
            "items": {
              "type": "number"
            }
          },
          "parameters": {
            "type": "object",
            "properties": {
              "binary_data_size": {
                "type": "integer"
              }
            }
          }
        }
      },
      "InferResponse": {
        "type": "object",
        "required": [
          "model_name",
          "outputs"
        ],
        "properties": {
          "model_name": {
            "type": "string"
          },
          "model_version": {
            "type": "string"
          },
          "id": {
            "type": "string"
          },
          "outputs": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/InferOutput"
            }
          }
        }
      }
    }
  }
}

"""#
}
