import ArgumentParser
import Foundation
import SignBERTRuntime
import WireFormats

struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Run the model on a request file or a .pose file and print the JSON that POST /predict answers.")

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: ArgumentHelp("A request body: {\"inputs\": [clip, ...], \"top_k\": 5, \"return_logits\": false}; "
                                            + "a clip is [T][V][C] numbers or an object of MediaPipe Holistic landmarks.",
                                            valueName: "request.json"))
    var input: String?

    @Option(name: .long, help: ArgumentHelp("A .pose file (pose-format v0.1/v0.2) of MediaPipe Holistic landmarks, "
                                            + "preprocessed as in training.", valueName: "file.pose"))
    var pose: String?

    @Option(name: .long, help: "With --pose: how many classes to list (the body's \"top_k\" otherwise).")
    var topK: Int?

    @Flag(name: .long, help: "With --pose: include the logits (the body's \"return_logits\" otherwise).")
    var returnLogits = false

    @Option(name: .long, help: "OpenBLAS threads (default: the cores this process may use).")
    var threads: Int?

    func validate() throws {
        guard (input == nil) != (pose == nil) else { throw ValidationError("give exactly one of --input and --pose") }
        if input != nil && (topK != nil || returnLogits) {
            throw ValidationError("--top-k and --return-logits go with --pose; a request body sets top_k and return_logits")
        }
        if let topK, topK < 1 { throw ValidationError("--top-k must be at least 1") }
    }

    func run() throws {
        try reportingErrors {
            let path = input ?? pose ?? ""
            let body: Data
            do { body = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
                throw ModelLoadError.file("cannot read \(path): \(error.fileErrorDescription)")
            }
            let loaded = try ModelLoader.load(modelOptions.source())
            warnAboutAssumptions(loaded)
            BLASThreads.set(threads ?? BLASThreads.availableCores())
            let request: PredictionRequest
            if pose != nil {
                // A request body given to --pose would otherwise read as a .pose header ("unsupported version 1.8e+28").
                if PredictionRequestDecoder.poseBodyIsJSON(body) == true {
                    throw ValidationError("\(path) is JSON, not a .pose file: give a request body with --input \(path)")
                }
                let clip = try PredictionRequestDecoder.decodePose(body, config: loaded.config, preparation: loaded.preparation)
                request = PredictionRequest(clips: clip, batch: 1,
                                            topK: min(topK ?? PredictionRequest.defaultTopK, loaded.config.numClasses),
                                            returnLogits: returnLogits)
            } else {
                request = try PredictionRequestDecoder.decode(body, config: loaded.config, preparation: loaded.preparation,
                                                              maxClips: Int.max)
            }
            let logits = loaded.model.logits(for: request.clips, batch: request.batch, frames: loaded.preparation.frames)
            let predictions = Prediction.batch(logits: logits, numClasses: loaded.config.numClasses, labels: loaded.labels,
                                               topK: request.topK, includeLogits: request.returnLogits)
            printJSON(PredictionEncoder.encode(predictions))
        }
    }
}
