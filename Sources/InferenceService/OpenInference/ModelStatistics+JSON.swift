import JSONText
import SignBERTRuntime

/// Triton's statistics extension in JSON (`GET /v2/models/stats`, `/v2/models/{name}[/versions/{v}]/stats`):
/// `{"model_stats": [...]}`, one entry per model version, with the field names of Triton's ModelStatistics message.
extension ModelStatistics.Snapshot {
    /// The whole answer for the given model versions.
    static func json(_ models: [(name: String, version: String, snapshot: Self)]) -> [UInt8] {
        var json = JSONWriter()
        json.raw("{\"model_stats\":[")
        for (index, model) in models.enumerated() {
            if index > 0 { json.raw(",") }
            model.snapshot.write(name: model.name, version: model.version, into: &json)
        }
        json.raw("]}")
        return json.bytes
    }

    /// One model version's entry. Durations are `{"count": N, "ns": N}`; the cache statistics are zero (no
    /// response cache) and `memory_usage` and `response_stats` empty, as Triton reports them for such a model.
    func write(name: String, version: String, into json: inout JSONWriter) {
        func duration(_ value: ModelStatistics.CountedDuration) -> String { "{\"count\":\(value.count),\"ns\":\(value.ns)}" }
        json.raw("{\"name\":")
        json.string(name)
        json.raw(",\"version\":")
        json.string(version)
        json.raw(",\"last_inference\":\(lastInference),\"inference_count\":\(inferenceCount),\"execution_count\":\(executionCount)")
        json.raw(",\"inference_stats\":{\"success\":\(duration(success)),\"fail\":\(duration(fail)),\"queue\":\(duration(queue))")
        json.raw(",\"compute_input\":\(duration(computeInput)),\"compute_infer\":\(duration(computeInfer))")
        json.raw(",\"compute_output\":\(duration(computeOutput))")
        let none = duration(ModelStatistics.CountedDuration())
        json.raw(",\"cache_hit\":\(none),\"cache_miss\":\(none)},\"batch_stats\":[")
        for (index, size) in batches.keys.sorted().enumerated() {
            guard let batch = batches[size] else { continue }
            if index > 0 { json.raw(",") }
            json.raw("{\"batch_size\":\(size),\"compute_input\":\(duration(batch.computeInput))")
            json.raw(",\"compute_infer\":\(duration(batch.computeInfer)),\"compute_output\":\(duration(batch.computeOutput))}")
        }
        json.raw("],\"memory_usage\":[],\"response_stats\":{}}")
    }
}
