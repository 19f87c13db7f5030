import App
import ArgumentParser
import Foundation
import Logging

/// `hubsignal config …`.
struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Check HubSignal's configuration, or list the variables it reads.",
        subcommands: [ConfigCheck.self, ConfigVariables.self])
}

/// `hubsignal config variables`: every environment variable HubSignal reads, with its default.
struct ConfigVariables: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "variables",
        abstract: "List every environment variable HubSignal reads, with its meaning and default.",
        discussion: "With --markdown it prints docs/configuration.md, which is generated from the same list.")

    @Flag(help: "Print the Markdown document (docs/configuration.md).") var markdown = false

    func run() throws {
        if markdown {
            print(EnvironmentVariable.markdownDocument, terminator: "")
        } else {
            print("The service:\n" + EnvironmentVariable.help([.service]))
            print("\nhubsignal hubspot install-actions:\n" + EnvironmentVariable.help([.hubSpotApp]))
            print("\nDevelopment and tests:\n" + EnvironmentVariable.help([.development]))
        }
    }
}

/// `hubsignal config check`: reads the configuration as `serve` does and tries every part of it.
struct ConfigCheck: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate the configuration: database reachable and migrated, mapping valid, HubSpot and OneSignal credentials accepted.",
        discussion: """
            Prints one line per check (ok, warning, PROBLEM) and exits with status 1 when there is a problem. It calls \
            HubSpot once (the contact property list) and each OneSignal app once (a segment list): read-only calls. \
            Secrets are never printed.

            \(environmentHelp)
            """)

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let configuration: AppConfiguration
        let logger: Logging.Logger
        do {
            (configuration, logger) = try prepare(options, requireDatabase: false)
        } catch {
            print("PROBLEM  configuration: \(error)")
            throw ExitCode.failure
        }
        let findings = await ConfigurationCheck(configuration: configuration, logger: logger).run()
        for finding in findings { print(finding) }
        if findings.contains(where: { $0.level == .problem }) { throw ExitCode.failure }
    }
}


