import ArgumentParser
import Foundation
import SignBERTRuntime

struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Run the model on a request file and print the JSON that POST /predict answers.")

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: ArgumentHelp("A request body: {\"inputs\": [clip, ...], \"top_k\": 5, \"return_logits\": false}.",
                                            valueName: "request.json"))
    var input: String

    @Option(name: .long, help: "OpenBLAS threads (default: the cores this process may use).")
    var threads: Int?

    func run() throws {
        try reportingErrors {
            let body: Data
            do { body = try Data(contentsOf: URL(fileURLWithPath: input)) } catch {
                throw ModelLoadError.file("cannot read \(input): \(error.fileErrorDescription)")
            }
            let loaded = try ModelLoader.load(modelOptions.source())
            BLASThreads.set(threads ?? BLASThreads.availableCores())
            let request = try PredictionRequestDecoder.decode(body, config: loaded.config, maxBatchSize: Int.max)
            let logits = loaded.model.logits(for: request.clips, batch: request.batch)
            let predictions = Prediction.batch(logits: logits, numClasses: loaded.config.numClasses, labels: loaded.labels,
                                               topK: request.topK, includeLogits: request.returnLogits)
            printJSON(PredictionEncoder.encode(predictions))
        }
    }
}
