import Foundation

extension EnvironmentVariable {
    /// The variables of `groups` for a terminal: per variable its name and default, then its summary.
    public static func help(_ groups: Set<Group> = [.service]) -> String {
        all.filter { groups.contains($0.group) }
            .map { "  \($0.name) (default \(plain($0.defaultValue)))\n      \(plain($0.summary))" }
            .joined(separator: "\n")
    }

    /// `--help`'s section on the variables `serve`, `dev` and the other service commands read.
    public static var serviceHelp: String {
        "Environment variables (also in HUBSIGNAL_CONFIG's environment section; `hubsignal config variables` lists all):\n" + help()
    }

    /// Markdown without its code marks.
    private static func plain(_ markdown: String) -> String {
        markdown.replacingOccurrences(of: "`", with: "")
    }

    /// The variable's row of a Markdown table: `| name | meaning | default |`.
    public var markdownRow: String {
        let meaning = details.isEmpty ? summary : summary + ". " + details
        return "| `\(name)` | \(meaning.replacingOccurrences(of: "|", with: "\\|")) | \(defaultValue) |"
    }

    /// The header of the tables of ``markdownRow``s.
    public static let markdownHeader = "| variable | meaning | default |\n| --- | --- | --- |"

    /// docs/configuration.md.
    public static var markdownDocument: String {
        func table(_ group: Group) -> String {
            ([markdownHeader] + all.filter { $0.group == group }.map(\.markdownRow)).joined(separator: "\n")
        }
        return """
            <!-- Generated from EnvironmentVariable.all (Sources/App/EnvironmentVariable+All.swift) by `hubsignal config variables --markdown`: edit that \
            file, not this one. Tests/AppTests/EnvironmentVariablesTests.swift fails when they differ. -->

            # Configuration

            HubSignal is configured by environment variables. `HUBSIGNAL_CONFIG` may name a YAML file whose `environment:` \
            section gives any of them (the process environment wins) and whose `onesignal_apps:` section lists several \
            OneSignal apps ([several OneSignal apps](onesignal-sync.md#several-onesignal-apps)). Command-line flags (`--host`, `--port`, `--log-level`) override the variables. An empty \
            variable counts as unset. `hubsignal config check` tries the configuration (database, mapping, credentials) \
            and names any `HUBSIGNAL_*`, `HUBSPOT_*` or `ONESIGNAL_*` variable HubSignal does not read.

            ## The service

            Read by `serve`, `dev`, `migrate`, `rebuild`, `config check` and the other commands that read the \
            configuration. An invalid value stops the command with a message naming the variable.

            \(table(.service))

            ## Installing the HubSpot workflow actions

            Read by `hubsignal hubspot install-actions`.

            \(table(.hubSpotApp))

            ## Development and tests

            Read by `hubsignal dev`, the tests and the benches.

            \(table(.development))

            """
    }
}
