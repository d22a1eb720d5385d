import ArgumentParser

@main
struct SignBERT: ParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "signbert",
        abstract: "Serve SignBERT sign-language recognition models from PyTorch checkpoints, on the CPU.",
        version: version,
        subcommands: [ServeCommand.self, PredictCommand.self, InspectCommand.self, ConvertCommand.self,
                      BenchCommand.self, HealthcheckCommand.self]
    )
}
