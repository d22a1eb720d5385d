import Foundation
import SignBERTRuntime
import WireFormats

/// A checked `POST /v2/models/{name}/infer` request (Open Inference Protocol, KServe V2) with the binary tensor
/// extension: one input tensor `[B,T,V,C]` or `[B,T,F]` (FP32, FP16 or FP64, as JSON `data` or as raw
/// little-endian bytes after the JSON header), the outputs asked for, and the model-ready clips.
struct OpenInferenceRequest: Sendable {
    struct Output: Sendable, Equatable {
        var name: OpenInferenceOutputName
        var binary: Bool
    }

    var id: String?
    /// [batch, D, V·C] float32 at the run's D frames (`ClipPreparation.frames`).
    var clips: [Float]
    var batch: Int
    var outputs: [Output]

    /// The name of the model's one input in metadata and requests.
    static let inputName = "keypoints"
}

enum OpenInferenceOutputName: String, Sendable, CaseIterable {
    case logits
    case probabilities
}

/// Public only for `decodeClips` (OpenInferenceRequestDecoder+Public.swift); its members stay internal.
public enum OpenInferenceRequestDecoder {
    /// `headerLength` is the `Inference-Header-Content-Length` value when the request carries binary data.
    static func decode(_ body: [UInt8], headerLength: String?, config: SignBERTConfig, preparation: ClipPreparation,
                       maxClips: Int, maxFrames: Int) throws(RequestError) -> OpenInferenceRequest {
        let jsonEnd = try jsonLength(headerLength, bodyCount: body.count)
        let document: JSONValue
        do { document = try JSONParser.parse(body[0..<jsonEnd]) } catch {
            throw RequestError("malformed JSON inference header: \(error.description)")
        }
        guard case .object = document else {
            throw RequestError("the inference request must be a JSON object with \"inputs\", got \(document.kindName)")
        }
        let id = try optionalString(document["id"], field: "id")
        let parameters = try optionalObject(document["parameters"], field: "parameters")
        let binaryOutputs = try optionalBool(parameters?["binary_data_output"], field: "parameters.binary_data_output") ?? false
        let exact = try framesMode(parameters?["frames"])

        guard let inputs = document["inputs"] else {
            throw RequestError("missing field \"inputs\": one tensor named \"\(OpenInferenceRequest.inputName)\"")
        }
        guard case .array(let list) = inputs else {
            throw RequestError("\"inputs\" must be an array of tensors, got \(inputs.kindName)")
        }
        guard list.count == 1 else {
            throw RequestError("\"inputs\" has \(list.count) tensors; the model takes exactly one, \"\(OpenInferenceRequest.inputName)\"")
        }
        let tensor = try decodeInput(list[0], binary: body, binaryStart: jsonEnd, config: config, preparation: preparation,
                                     maxClips: maxClips, maxFrames: maxFrames, exact: exact)
        let outputs = try decodeOutputs(document["outputs"], binaryByDefault: binaryOutputs)
        return OpenInferenceRequest(id: id, clips: tensor.clips, batch: tensor.batch, outputs: outputs)
    }

    /// Where the JSON part ends: the whole body, or the header's value when binary data follows.
    static func jsonLength(_ header: String?, bodyCount: Int) throws(RequestError) -> Int {
        guard let header else { return bodyCount }
        guard let length = Int(header.trimmingCharacters(in: .whitespaces)), length > 0 else {
            throw RequestError("Inference-Header-Content-Length must be a positive whole number, got \"\(header)\"")
        }
        guard length <= bodyCount else {
            throw RequestError("Inference-Header-Content-Length is \(length) but the body has only \(bodyCount) bytes")
        }
        return length
    }

    struct Tensor {
        var clips: [Float]
        var batch: Int
    }

    static func decodeInput(_ input: JSONValue, binary body: [UInt8], binaryStart: Int, config: SignBERTConfig,
                            preparation: ClipPreparation, maxClips: Int, maxFrames: Int,
                            exact: Bool) throws(RequestError) -> Tensor {
        guard case .object = input else { throw RequestError("inputs[0] must be a tensor object, got \(input.kindName)") }
        let name = try optionalString(input["name"], field: "inputs[0].name")
        let typeName = try optionalString(input["datatype"], field: "inputs[0].datatype")
        let data = input["data"] == .null ? nil : input["data"]
        return try checkedInput(name: name, datatype: typeName, shape: { () throws(RequestError) -> [Int] in try decodeShape(input["shape"]) },
                                config: config, preparation: preparation, maxClips: maxClips, maxFrames: maxFrames,
                                exact: exact) { (shape: [Int], type: OpenInferenceDataType, count: Int) throws(RequestError) -> [Float] in
            let inputParameters = try optionalObject(input["parameters"], field: "inputs[0].parameters")
            let binarySize = try optionalCount(inputParameters?["binary_data_size"], field: "inputs[0].parameters.binary_data_size")
            switch (data, binarySize) {
            case (nil, nil):
                throw RequestError("inputs[0] has neither \"data\" nor parameters.binary_data_size")
            case (_?, _?):
                throw RequestError("inputs[0] has both \"data\" and parameters.binary_data_size; send one")
            case (let data?, nil):
                guard binaryStart == body.count else {
                    throw RequestError("the body has \(body.count - binaryStart) bytes after the JSON header but no input declares binary_data_size")
                }
                return try jsonData(data, type: type, count: count)
            case (nil, let size?):
                let available = body.count - binaryStart
                guard size == count * type.byteSize else {
                    throw RequestError("inputs[0].parameters.binary_data_size is \(size); shape \(shape) of \(type.rawValue) needs \(count * type.byteSize) bytes")
                }
                guard available == size else {
                    throw RequestError("the body has \(available) bytes after the JSON header; inputs[0] declares \(size)")
                }
                return try rawFloats(body, offset: binaryStart, type: type, count: count)
            }
        }
    }

    /// The checks every protocol makes on the one input tensor once its fields are read (name, datatype, shape
    /// against the model and the limits), then `values(type, shape, count)` reads its `count` elements in the
    /// protocol's own way, and the clips are brought to the model's frames. V2 REST and gRPC both decode through here.
    static func checkedInput(name: String?, datatype typeName: String?, shape readShape: () throws(RequestError) -> [Int],
                             config: SignBERTConfig, preparation: ClipPreparation, maxClips: Int, maxFrames: Int, exact: Bool,
                             values: (_ shape: [Int], _ type: OpenInferenceDataType, _ count: Int) throws(RequestError) -> [Float]
                             ) throws(RequestError) -> Tensor {
        guard let name else { throw RequestError("inputs[0].name is missing; the model's input is \"\(OpenInferenceRequest.inputName)\"") }
        guard name == OpenInferenceRequest.inputName else {
            throw RequestError("inputs[0].name is \"\(name)\"; the model's input is \"\(OpenInferenceRequest.inputName)\"")
        }
        guard let typeName else {
            throw RequestError("inputs[0].datatype is missing: FP32, FP16 or FP64")
        }
        guard let type = OpenInferenceDataType(rawValue: typeName) else {
            throw RequestError("inputs[0].datatype \"\(typeName)\" is not supported: send FP32, FP16 or FP64")
        }
        let shape = try readShape()
        let geometry = try checkShape(shape, config: config, clipFrames: preparation.frames, maxClips: maxClips,
                                      maxFrames: maxFrames, exact: exact)
        let count = geometry.batch * geometry.frames * config.inputFeatures
        let floats = try values(shape, type, count)
        let clips = PredictionRequestDecoder.loaded(floats, clips: geometry.batch, frames: geometry.frames,
                                                    features: config.inputFeatures, to: preparation.frames)
        return Tensor(clips: clips, batch: geometry.batch)
    }

    /// `count` little-endian elements of `type` from `bytes[offset...]` (the caller checked the length).
    static func rawFloats(_ bytes: [UInt8], offset: Int, type: OpenInferenceDataType, count: Int) throws(RequestError) -> [Float] {
        switch type.floats(bytes, offset: offset, count: count) {
        case .success(let values): return values
        case .failure(let bad): throw RequestError("inputs[0] element \(bad.index) is not a finite float32 number")
        }
    }

    static func decodeShape(_ value: JSONValue?) throws(RequestError) -> [Int] {
        let numbers: [Double]
        switch value {
        case nil: throw RequestError("inputs[0].shape is missing: [B,T,V,C] or [B,T,F]")
        case .tensor(let dims, let values)? where dims.count == 1: numbers = values
        case let other?: throw RequestError("inputs[0].shape must be an array of whole numbers, got \(other.kindName)")
        }
        var shape: [Int] = []
        for number in numbers {
            guard number == number.rounded(), number >= 0, number < 1e9 else {
                throw RequestError("inputs[0].shape must hold whole numbers of at least 0, got \(number)")
            }
            shape.append(Int(number))
        }
        return shape
    }

    struct Geometry {
        var batch: Int
        var frames: Int
    }

    static func checkShape(_ shape: [Int], config: SignBERTConfig, clipFrames: Int, maxClips: Int, maxFrames: Int,
                           exact: Bool) throws(RequestError) -> Geometry {
        let expected = "[B,T,\(config.numJoints),\(config.numCoords)] or [B,T,\(config.inputFeatures)]"
        let fits = shape.count == 4 ? (shape[2] == config.numJoints && shape[3] == config.numCoords)
                 : shape.count == 3 ? shape[2] == config.inputFeatures : false
        guard fits else { throw RequestError("inputs[0].shape is \(shape); expected \(expected)") }
        let batch = shape[0], frames = shape[1]
        guard batch >= 1 else { throw RequestError("inputs[0].shape has batch \(batch): send at least one clip") }
        guard batch <= maxClips else {
            throw RequestError("inputs[0].shape has batch \(batch); at most \(maxClips) clips are accepted per request (max clips per request)")
        }
        guard frames >= 1 else { throw RequestError("inputs[0].shape has \(frames) frames: a clip needs at least one") }
        guard frames <= maxFrames else {
            throw RequestError("inputs[0].shape has \(frames) frames; at most \(maxFrames) are accepted")
        }
        if exact && frames != clipFrames {
            throw RequestError("inputs[0].shape has \(frames) frames; with parameters.frames \"exact\" it must be \(clipFrames) "
                               + "(the clip length the model was trained on, data.num_frames)")
        }
        return Geometry(batch: batch, frames: frames)
    }

    /// JSON `data`, flat or nested row-major (both are allowed by the protocol).
    static func jsonData(_ data: JSONValue, type: OpenInferenceDataType, count: Int) throws(RequestError) -> [Float] {
        guard case .tensor(_, let values) = data else {
            let got = if case .array = data { "an array that is not all numbers (or ragged)" } else { data.kindName }
            throw RequestError("inputs[0].data must be an array of numbers (flat or nested row-major), got \(got)")
        }
        guard values.count == count else {
            throw RequestError("inputs[0].data has \(values.count) numbers; its shape needs \(count)")
        }
        var floats = [Float](repeating: 0, count: count)
        for i in 0..<count {
            let value = values[i]
            guard abs(value) <= type.greatestFinite, abs(value) <= Double(Float.greatestFiniteMagnitude) else {
                throw RequestError("inputs[0].data[\(i)] is \(value), which is not a finite \(type.rawValue) number")
            }
            floats[i] = type == .fp16 ? Float(Float16(value)) : Float(value)
        }
        return floats
    }

    /// The requested outputs (all of them when the field is absent), each binary or JSON.
    static func decodeOutputs(_ value: JSONValue?, binaryByDefault: Bool) throws(RequestError) -> [OpenInferenceRequest.Output] {
        guard let value, value != .null else {
            return OpenInferenceOutputName.allCases.map { .init(name: $0, binary: binaryByDefault) }
        }
        guard case .array(let items) = value else {
            if case .tensor = value { throw RequestError("\"outputs\" must be an array of objects like {\"name\": \"logits\"}") }
            throw RequestError("\"outputs\" must be an array of objects like {\"name\": \"logits\"}, got \(value.kindName)")
        }
        var outputs: [OpenInferenceRequest.Output] = []
        for (index, item) in items.enumerated() {
            let field = "outputs[\(index)]"
            guard case .object = item else { throw RequestError("\(field) must be an object with a \"name\", got \(item.kindName)") }
            guard let nameText = try optionalString(item["name"], field: "\(field).name") else {
                throw RequestError("\(field).name is missing: \"logits\" or \"probabilities\"")
            }
            guard let name = OpenInferenceOutputName(rawValue: nameText) else {
                throw RequestError("\(field).name \"\(nameText)\" is not an output of the model: \"logits\" or \"probabilities\"")
            }
            guard !outputs.contains(where: { $0.name == name }) else { throw RequestError("\(field).name \"\(nameText)\" is asked for twice") }
            let parameters = try optionalObject(item["parameters"], field: "\(field).parameters")
            let binary = try optionalBool(parameters?["binary_data"], field: "\(field).parameters.binary_data") ?? binaryByDefault
            outputs.append(.init(name: name, binary: binary))
        }
        guard !outputs.isEmpty else { throw RequestError("\"outputs\" is empty; leave it out to get every output") }
        return outputs
    }

    // MARK: field helpers

    static func optionalString(_ value: JSONValue?, field: String) throws(RequestError) -> String? {
        switch value {
        case nil, .null?: return nil
        case .string(let text)?: return text
        case let other?: throw RequestError("\"\(field)\" must be a string, got \(other.kindName)")
        }
    }

    static func optionalBool(_ value: JSONValue?, field: String) throws(RequestError) -> Bool? {
        switch value {
        case nil, .null?: return nil
        case .bool(let flag)?: return flag
        case let other?: throw RequestError("\"\(field)\" must be true or false, got \(other.kindName)")
        }
    }

    static func optionalObject(_ value: JSONValue?, field: String) throws(RequestError) -> JSONValue? {
        switch value {
        case nil, .null?: return nil
        case .object?: return value
        case let other?: throw RequestError("\"\(field)\" must be an object, got \(other.kindName)")
        }
    }

    static func optionalCount(_ value: JSONValue?, field: String) throws(RequestError) -> Int? {
        switch value {
        case nil, .null?: return nil
        case .number(let number)?:
            guard number == number.rounded(), number >= 0, number < 1e15 else {
                throw RequestError("\"\(field)\" must be a whole number of bytes, got \(number)")
            }
            return Int(number)
        case let other?: throw RequestError("\"\(field)\" must be a whole number of bytes, got \(other.kindName)")
        }
    }

    static func framesMode(_ value: JSONValue?) throws(RequestError) -> Bool {
        switch value {
        case nil, .null?, .string("sample")?: return false
        case .string("exact")?: return true
        case let other?:
            throw RequestError("\"parameters.frames\" must be \"sample\" (bring any clip length to the model's frames as its training loader did) or \"exact\", got \(other.kindName)")
        }
    }
}
