import ArgumentParser
import Foundation
import OneSignalSandbox

/// `hubsignal sandbox onesignal`: serves the OneSignal sandbox for one app until SIGINT or SIGTERM.
struct SandboxOneSignal: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "onesignal",
        abstract: "Serve an in-memory imitation of the OneSignal REST API for one app (state is lost on exit).",
        discussion: """
            Point a OneSignal client's base URL at the printed address. Requests need `Authorization: Key <api-key>`; \
            OneSignal's rate limits apply (1 write per second per user, 1 view per second per app).
            """)

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0 picks a free one).") var port = 8092
    @Option(help: "The app id (a UUID) requests must name (default: ONESIGNAL_APP_ID).")
    var appID: String?
    @Option(help: "The app API key requests must send (default: ONESIGNAL_API_KEY).")
    var apiKey: String?
    @Option(help: "Tags allowed per user (your plan's cap: Free 2, Growth 10, Professional 100).")
    var tagLimit = 10

    func validate() throws {
        guard let appID = resolvedAppID, UUID(uuidString: appID) != nil else {
            throw ValidationError("--app-id (or ONESIGNAL_APP_ID) is required and must be a UUID")
        }
        guard resolvedAPIKey != nil else {
            throw ValidationError("--api-key (or ONESIGNAL_API_KEY) is required")
        }
        guard tagLimit >= 0 else { throw ValidationError("--tag-limit must not be negative") }
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
    }

    func run() async throws {
        guard let appID = resolvedAppID, let apiKey = resolvedAPIKey else { return }
        let (host, tagLimit, app) = (self.host, self.tagLimit, appID.lowercased())
        var configuration = OneSignalSandbox.Configuration(
            appID: appID, apiKey: apiKey, tagLimit: tagLimit, host: host, port: port)
        // A long-running sandbox keeps only its recent requests.
        configuration.requestLogLimit = 1_000
        let sandbox = OneSignalSandbox(configuration: configuration)
        let shownHost = ["0.0.0.0", "::"].contains(host) ? "127.0.0.1" : host
        let banner: @Sendable (Int) -> String = { port in
            "OneSignal sandbox listening on http://\(shownHost):\(port) (app \(app), \(tagLimit) tags per user)\n"
                + "Stop with Ctrl-C.\n"
        }
        try await sandbox.run { port in
            FileHandle.standardOutput.write(Data(banner(port).utf8))
        }
    }

    private var resolvedAppID: String? {
        Self.nonEmpty(appID ?? ProcessInfo.processInfo.environment["ONESIGNAL_APP_ID"])
    }

    private var resolvedAPIKey: String? {
        Self.nonEmpty(apiKey ?? ProcessInfo.processInfo.environment["ONESIGNAL_API_KEY"])
    }

    private static func nonEmpty(_ value: String?) -> String? {
        value?.isEmpty == false ? value : nil
    }
}
