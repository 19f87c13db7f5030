import ArgumentParser

@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hubsignal-bench",
        abstract: "HubSignal's benchmarks. Each prints our figure, a reference measured in the same run, and their ratio.",
        subcommands: [AppendBench.self, IngestBench.self, RebuildBench.self, HubSpotBench.self, OneSignalBench.self, SoakBench.self, ScaleBench.self])
}

/// Options every benchmark shares.
struct BenchOptions: ParsableArguments {
    @Option(help: "Number of events.") var events = 1_000_000
    @Flag(help: "Also print the figures as one JSON object on the last line.") var json = false
    @Option(help: "Migrations folder (default: ./migrations).") var migrations = "migrations"
}
