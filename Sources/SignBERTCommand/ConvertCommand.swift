import ArgumentParser
import Foundation
import SignBERTRuntime

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Write a model directory (model.safetensors, config.json, labels.txt) that --model loads.")

    enum DType: String, ExpressibleByArgument, CaseIterable { case f32, f16 }

    @Argument(help: ArgumentHelp("A checkpoint (.pth/.pt/.bin or .safetensors).", valueName: "checkpoint"))
    var checkpoint: String

    @OptionGroup var files: CheckpointFileOptions

    @Option(name: .long, help: ArgumentHelp("The model directory to write.", valueName: "dir"))
    var output: String

    @Option(name: .long, help: "Weight dtype in model.safetensors: f32 (exact) or f16 (half the size).")
    var dtype: DType = .f32

    @Flag(name: .long, help: "Write into the output directory even when it is not empty (its model files are replaced).")
    var force = false

    func run() throws {
        try reportingErrors {
            let source = files.source(checkpoint)
            let (loaded, stateDict) = try ModelLoader.loadKeepingStateDict(source)
            let directory = URL(fileURLWithPath: output)
            let existing = (try? FileManager.default.contentsOfDirectory(atPath: output)) ?? []
            if !existing.isEmpty && !force {
                throw ModelLoadError.file("\(output) is not empty (\(existing.count) entries); choose another --output or pass --force to write into it")
            }
            warnAboutAssumptions(loaded)
            do {
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            } catch {
                throw ModelLoadError.file("cannot create \(output): \(error.fileErrorDescription)")
            }
            // Only the model's own tensors, in the training code's order, without any `module.` prefix.
            let tensors = SignBERTWeights.expectedShapes(for: loaded.config).compactMap { entry in
                stateDict.tensors[entry.key].map { (name: entry.key, tensor: $0) }
            }
            try SafeTensorsWriter.write(tensors, dtype: dtype == .f16 ? .f16 : .f32,
                                        metadata: ["format": "pt", "source": URL(fileURLWithPath: checkpoint).lastPathComponent],
                                        to: directory.appendingPathComponent("model.safetensors"))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            // D and the preprocessing go along, so the directory answers exactly as the checkpoint does.
            let config = ModelDirectoryConfig(config: loaded.config, source: "signbert convert \(URL(fileURLWithPath: checkpoint).lastPathComponent)",
                                              preparation: loaded.preparation)
            do {
                try encoder.encode(config).write(to: directory.appendingPathComponent("config.json"))
                try Data((loaded.labels.joined(separator: "\n") + "\n").utf8)
                    .write(to: directory.appendingPathComponent("labels.txt"))
            } catch {
                throw ModelLoadError.file("cannot write into \(output): \(error.fileErrorDescription)")
            }
            print("wrote \(output): model.safetensors (\(dtype.rawValue), \(tensors.count) tensors), config.json, labels.txt")
        }
    }
}
