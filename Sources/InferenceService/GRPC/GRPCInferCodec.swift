import Foundation
import SignBERTRuntime
import WireFormats

/// What a ModelInfer answer needs besides the logits: the request's id, the outputs asked for, the batch.
struct GRPCInferContext: Sendable {
    var id: String
    var outputs: [OpenInferenceOutputName]
    var batch: Int
}

/// ModelInferRequest → clips and ModelInferResponse ← logits, with the checks and tensor layout of V2 REST
/// (`OpenInferenceRequestDecoder.checkedInput`, `OpenInferenceResponseEncoder`): the same input tensor (FP32, FP16
/// or FP64, `[B,T,V,C]` or `[B,T,F]`), as `contents` or as `raw_input_contents`, and the same outputs.
enum GRPCInferCodec {
    static func decode(_ call: Inference_ModelInferRequest, config: SignBERTConfig, preparation: ClipPreparation,
                       maxClips: Int, maxFrames: Int) throws(RequestError) -> (ClipBatch, GRPCInferContext) {
        let exact = try OpenInferenceRequestDecoder.framesMode(call.parameters["frames"].map(jsonValue))
        guard call.inputs.count == 1, let input = call.inputs.first else {
            throw RequestError("\"inputs\" has \(call.inputs.count) tensors; the model takes exactly one, \"\(OpenInferenceRequest.inputName)\"")
        }
        let raw = call.rawInputContents
        guard raw.count <= 1 else {
            throw RequestError("raw_input_contents has \(raw.count) entries; the model takes exactly one input")
        }
        let tensor = try OpenInferenceRequestDecoder.checkedInput(
            name: input.name, datatype: input.datatype.isEmpty ? nil : input.datatype,
            shape: { () throws(RequestError) -> [Int] in try shape(input.shape) },
            config: config, preparation: preparation, maxClips: maxClips, maxFrames: maxFrames, exact: exact
        ) { (shape: [Int], type: OpenInferenceDataType, count: Int) throws(RequestError) -> [Float] in
            if let bytes = raw.first {
                guard !input.hasContents else {
                    throw RequestError("inputs[0] has both contents and raw_input_contents; send one")
                }
                guard bytes.count == count * type.byteSize else {
                    throw RequestError("raw_input_contents[0] has \(bytes.count) bytes; shape \(shape) of \(type.rawValue) needs \(count * type.byteSize) bytes")
                }
                return try OpenInferenceRequestDecoder.rawFloats([UInt8](bytes), offset: 0, type: type, count: count)
            }
            guard input.hasContents else { throw RequestError("inputs[0] has neither contents nor raw_input_contents") }
            return try contents(input.contents, type: type, count: count)
        }
        let outputs = try requestedOutputs(call.outputs.map(\.name))
        return (ClipBatch(values: tensor.clips, batch: tensor.batch), GRPCInferContext(id: call.id, outputs: outputs, batch: tensor.batch))
    }

    static func shape(_ dims: [Int64]) throws(RequestError) -> [Int] {
        var shape: [Int] = []
        for dim in dims {
            guard dim >= 0, dim < 1_000_000_000 else {
                throw RequestError("inputs[0].shape must hold whole numbers of at least 0, got \(dim)")
            }
            shape.append(Int(dim))
        }
        return shape
    }

    /// The typed contents field of the datatype (fp32_contents or fp64_contents; FP16 has none and comes raw).
    static func contents(_ contents: Inference_InferTensorContents, type: OpenInferenceDataType,
                         count: Int) throws(RequestError) -> [Float] {
        let values: [Float]
        switch type {
        case .fp32:
            values = contents.fp32Contents
        case .fp64:
            guard contents.fp64Contents.count == count else {
                throw RequestError("inputs[0].contents.fp64_contents has \(contents.fp64Contents.count) numbers; its shape needs \(count)")
            }
            values = contents.fp64Contents.map { Float($0) }
        case .fp16:
            throw RequestError("FP16 tensors have no contents field; send them as raw_input_contents (little-endian)")
        }
        guard values.count == count else {
            throw RequestError("inputs[0].contents.fp32_contents has \(values.count) numbers; its shape needs \(count)")
        }
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw RequestError("inputs[0] element \(bad) is not a finite float32 number")
        }
        return values
    }

    /// The outputs asked for, by name; all of them when none is named.
    static func requestedOutputs(_ names: [String]) throws(RequestError) -> [OpenInferenceOutputName] {
        guard !names.isEmpty else { return OpenInferenceOutputName.allCases }
        var outputs: [OpenInferenceOutputName] = []
        for (index, text) in names.enumerated() {
            guard let name = OpenInferenceOutputName(rawValue: text) else {
                throw RequestError("outputs[\(index)].name \"\(text)\" is not an output of the model: \"logits\" or \"probabilities\"")
            }
            guard !outputs.contains(name) else { throw RequestError("outputs[\(index)].name \"\(text)\" is asked for twice") }
            outputs.append(name)
        }
        return outputs
    }

    /// A request parameter as the JSON value V2 REST would have, so that both read it with the same rules.
    static func jsonValue(_ parameter: Inference_InferParameter) -> JSONValue {
        switch parameter.parameterChoice {
        case .boolParam(let flag)?: .bool(flag)
        case .int64Param(let number)?: .number(Double(number))
        case .stringParam(let text)?: .string(text)
        case .doubleParam(let number)?: .number(number)
        case .uint64Param(let number)?: .number(Double(number))
        case nil: .null
        }
    }

    /// The outputs as Triton answers them over gRPC: FP32 `[B, K]` in `raw_output_contents` (little-endian), in
    /// the order asked for. tritonclient reads them from there.
    static func encode(logits: [Float], context: GRPCInferContext, numClasses: Int, modelName: String,
                       modelVersion: String = "1") -> Inference_ModelInferResponse {
        Inference_ModelInferResponse.with { response in
            response.modelName = modelName
            response.modelVersion = modelVersion
            response.id = context.id
            for name in context.outputs {
                let values = name == .logits ? logits : OpenInferenceResponseEncoder.probabilities(logits, numClasses: numClasses)
                response.outputs.append(.with {
                    $0.name = name.rawValue
                    $0.datatype = "FP32"
                    $0.shape = [Int64(context.batch), Int64(numClasses)]
                })
                var bytes: [UInt8] = []
                OpenInferenceResponseEncoder.appendLittleEndian(values, to: &bytes)
                response.rawOutputContents.append(Data(bytes))
            }
        }
    }
}
