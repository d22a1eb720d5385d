import ArgumentParser
import Foundation
import SignBERTRuntime

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show a checkpoint's architecture, parameters, dtypes, classes and what was ignored.")

    @Argument(help: ArgumentHelp("A checkpoint file or a model directory.", valueName: "checkpoint"))
    var path: String

    @OptionGroup var files: CheckpointFileOptions

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    func run() throws {
        try reportingErrors {
            let source = files.source(path)
            let loaded = try ModelLoader.load(source)
            if json {
                printJSON(ModelDescription(loaded).json())
            } else {
                print(ModelDescription(loaded).text())
            }
        }
    }
}
