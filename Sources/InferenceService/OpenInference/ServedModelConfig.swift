import JSONText
import SignBERTRuntime

/// A served model's configuration as Triton's model configuration extension describes it: what
/// `GET /v2/models/{name}/config` answers in JSON and gRPC ModelConfig in protobuf (ServedModelConfig+GRPC.swift),
/// made from one model's `LoadedModel` and the batching settings it is served with. The input is the V2
/// input without its batch dimension (any frame count, then joints and coordinates); the outputs are the V2
/// outputs, [K] each.
struct ServedModelConfig: Sendable, Equatable {
    struct Tensor: Sendable, Equatable {
        var name: String
        var dims: [Int]
    }

    var name: String
    /// What the model metadata reports as the platform; Triton's `backend` names the code that runs it.
    var platform = "signbert"
    var backend = "signbert"
    var maxBatchSize: Int
    var inputs: [Tensor]
    var outputs: [Tensor]
    var maxQueueDelayMicroseconds: UInt64
    /// One compute worker runs every batch of the model.
    var instanceCount = 1
    /// signbert's own facts, as Triton's free-form `parameters` (string values).
    var parameters: [Parameter]

    struct Parameter: Sendable, Equatable {
        var key: String
        var value: String
    }

    init(name: String, loaded: LoadedModel, configuration: ServiceConfiguration) {
        let config = loaded.config
        self.name = name
        maxBatchSize = configuration.maxBatchSize
        inputs = [Tensor(name: OpenInferenceRequest.inputName, dims: [-1, config.numJoints, config.numCoords])]
        outputs = OpenInferenceOutputName.allCases.map { Tensor(name: $0.rawValue, dims: [config.numClasses]) }
        maxQueueDelayMicroseconds = UInt64(max(0, configuration.maxQueueDelay.nanoseconds / 1000))
        parameters = [
            Parameter(key: "frames", value: String(loaded.preparation.frames)),
            Parameter(key: "max_clips_per_request", value: String(configuration.maxClipsPerRequest)),
            Parameter(key: "max_queued_clips", value: String(configuration.maxQueuedClips)),
        ]
    }

    /// Triton's JSON form (protobuf field names, enums by name, numbers as numbers), with the defaults Triton
    /// prints for the fields it has (`format`, `is_shape_tensor`, `optional`...), which perf_analyzer reads.
    func json() -> [UInt8] {
        var json = JSONWriter()
        json.raw("{\"name\":")
        json.string(name)
        json.raw(",\"platform\":")
        json.string(platform)
        json.raw(",\"backend\":")
        json.string(backend)
        json.raw(",\"version_policy\":{\"latest\":{\"num_versions\":1}},\"max_batch_size\":\(maxBatchSize),\"input\":[")
        for (index, input) in inputs.enumerated() {
            if index > 0 { json.raw(",") }
            json.raw("{\"name\":")
            json.string(input.name)
            json.raw(",\"data_type\":\"TYPE_FP32\",\"format\":\"FORMAT_NONE\",\"dims\":[\(Self.list(input.dims))],")
            json.raw("\"is_shape_tensor\":false,\"allow_ragged_batch\":false,\"optional\":false}")
        }
        json.raw("],\"output\":[")
        for (index, output) in outputs.enumerated() {
            if index > 0 { json.raw(",") }
            json.raw("{\"name\":")
            json.string(output.name)
            json.raw(",\"data_type\":\"TYPE_FP32\",\"dims\":[\(Self.list(output.dims))],\"label_filename\":\"\",\"is_shape_tensor\":false}")
        }
        json.raw("],\"dynamic_batching\":{\"preferred_batch_size\":[],\"max_queue_delay_microseconds\":\(maxQueueDelayMicroseconds),")
        json.raw("\"preserve_ordering\":false},\"instance_group\":[{\"name\":")
        json.string(name + "_0")
        json.raw(",\"kind\":\"KIND_CPU\",\"count\":\(instanceCount)}],\"parameters\":{")
        for (index, parameter) in parameters.enumerated() {
            if index > 0 { json.raw(",") }
            json.string(parameter.key)
            json.raw(":{\"string_value\":")
            json.string(parameter.value)
            json.raw("}")
        }
        json.raw("}}")
        return json.bytes
    }

    private static func list(_ values: [Int]) -> String { values.map(String.init).joined(separator: ",") }
}
