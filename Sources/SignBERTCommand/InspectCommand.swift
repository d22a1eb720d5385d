import ArgumentParser
import Foundation
import SignBERTRuntime

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show a checkpoint's architecture, parameters, dtypes, classes and what was ignored.")

    @Argument(help: ArgumentHelp("A checkpoint file or a model directory.", valueName: "checkpoint"))
    var path: String

    @Option(name: .long, help: ArgumentHelp("The training run's config.yaml.", valueName: "file"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("label_mapping.json or labels.txt.", valueName: "file"))
    var labels: String?

    @Option(name: .long, help: "Attention heads (overrides config.yaml).")
    var numHeads: Int?

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    func run() throws {
        try reportingErrors {
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            let url = URL(fileURLWithPath: path)
            let labelsURL = labels.map { URL(fileURLWithPath: $0) }
            let overrides = ArchitectureOverrides(numHeads: numHeads)
            let source = exists && isDirectory.boolValue
                ? ModelSource(modelDirectory: url, labels: labelsURL, overrides: overrides)
                : ModelSource(checkpoint: url, config: config.map { URL(fileURLWithPath: $0) }, labels: labelsURL,
                              overrides: overrides)
            let loaded = try ModelLoader.load(source)
            if json {
                printJSON(ModelDescription(loaded).json())
            } else {
                print(ModelDescription(loaded).text())
            }
        }
    }
}
