import App
import ArgumentParser
import Foundation
import HubSpot
import Logging
import Mapping

/// `hubsignal hubspot …`: HubSignal's HubSpot app (the project to upload), its OAuth installation, and the legacy action
/// registration.
///
/// Named `HubSpotCommand` rather than `HubSpot` so the type does not shadow the `HubSpot` module.
struct HubSpotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hubspot",
        abstract: "Set up HubSpot for HubSignal: the app project to upload (current), the OAuth installation, or actions for a legacy public app.",
        subcommands: [AppProject.self, HubSpotOAuthCommand.self, InstallActions.self])
}

/// `hubsignal hubspot app`: writes HubSignal's HubSpot app as a developer-platform project for `hs project upload`.
struct AppProject: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "app",
        abstract: "Write HubSignal's HubSpot app as a project (the current way to install HubSignal in HubSpot).",
        discussion: """
            Writes hsproject.json and src/app/ (the app with its scopes, the webhook subscriptions and the two custom \
            workflow actions) for the public URL, then prints the files and the next steps. Upload the folder with the \
            HubSpot CLI (hs project upload) and install the app in the account; docs/hubspot-app.md walks through it. \
            Files of the same name are replaced; other files in the folder are left as they are.

            Static auth (the default) makes a private app for one account: copy its access token into \
            HUBSPOT_ACCESS_TOKEN. --auth oauth makes an app installed through HubSignal's /hubspot/oauth/install, \
            redirecting to HUBSIGNAL_PUBLIC_URL/hubspot/oauth/callback.

            Environment variables:
              HUBSIGNAL_PUBLIC_URL  the URL HubSpot calls HubSignal at (or --public-url)
              HUBSIGNAL_MAPPING     the mapping file: its hubspot_to_onesignal properties get property-change subscriptions
              HUBSIGNAL_CONFIG      the OneSignal apps (a workflow chooses among them when there are several)
            """)

    @OptionGroup var options: GlobalOptions
    @Option(name: .customLong("public-url"), help: "The external base URL HubSpot calls (default: HUBSIGNAL_PUBLIC_URL).")
    var publicURL: String?
    @Option(name: .customLong("output"), help: "The project folder to write (created if needed).")
    var output: String = "hubspot-app"
    @Option(name: .customLong("auth"), help: "static (one account, a static token) or oauth (installs through HubSignal).")
    var authentication: String = HubSpotAppProject.Authentication.staticToken.rawValue
    @Option(
        name: .customLong("onesignal-app"),
        help: "A OneSignal app workflows can choose (repeatable). Default: the configured apps (HUBSIGNAL_CONFIG) when there are several; with one app, the actions have no app input.")
    var oneSignalApps: [String] = []
    @Option(
        name: .customLong("property"),
        help: "A contact property whose changes HubSignal reads (repeatable). Default: the mapping's hubspot_to_onesignal properties and onesignal.external_id_property; email always.")
    var properties: [String] = []

    func run() async throws {
        let (configuration, logger) = try prepare(options, requireDatabase: false)
        do {
            guard let authentication = HubSpotAppProject.Authentication(rawValue: authentication) else {
                throw InstallActionsError("--auth \(authentication) is not an app kind: use static or oauth")
            }
            let publicURL = try InstallActions.publicURL(self.publicURL ?? configuration.publicURL)
            let configured = configuration.oneSignalApps.map(\.name)
            let appNames = oneSignalApps.isEmpty && configured.count > 1 ? configured : oneSignalApps
            let properties =
                self.properties.isEmpty
                ? try HubSignalService.loadMapping(configuration, logger: logger).subscribedContactProperties : self.properties
            let project = HubSpotAppProject(
                publicURL: publicURL, authentication: authentication, oneSignalApps: appNames, properties: properties)
            let folder = URL(fileURLWithPath: output)
            for file in try project.write(to: folder) {
                print(folder.appendingPathComponent(file.path).path)
            }
            let scopes = project.scopes
            print("")
            print("Required scopes: \(scopes.required.map(\.rawValue).joined(separator: " "))")
            print("Optional scopes: \(scopes.optional.map(\.rawValue).joined(separator: " "))")
            print("")
            print("Next: cd \(output) && hs project upload, then install the app in the account (docs/hubspot-app.md).")
            switch authentication {
            case .staticToken:
                print("Then set HUBSPOT_ACCESS_TOKEN (the app's access token), HUBSPOT_CLIENT_SECRET and HUBSPOT_PORTAL_ID.")
            case .oauth:
                print("Then set HUBSPOT_CLIENT_ID, HUBSPOT_CLIENT_SECRET and HUBSIGNAL_TOKEN_KEY, and open \(publicURL)/hubspot/oauth/install.")
            }
        } catch {
            throw fail(error)
        }
    }
}

/// `hubsignal hubspot install-actions`: registers (or updates) HubSignal's two custom workflow actions with a legacy
/// public app, through the automation v4 definitions API and a developer API key.
struct InstallActions: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install-actions",
        abstract: "Legacy: register HubSignal's custom workflow actions with a legacy public app (developer API key).",
        discussion: """
            Legacy path, for a public app created before HubSpot's developer projects that has not been migrated. The \
            current way is `hubsignal hubspot app`: a project's workflow actions are defined by its files, and HubSpot \
            no longer lets the definitions API edit the features of an app managed by a project.

            Lists the app's action definitions; a definition with the same actionUrl is updated, otherwise one is created, so \
            running it again changes nothing but the revision. Prints one line per action: created or updated, the id and \
            the actionUrl. The actionUrls are HUBSIGNAL_PUBLIC_URL + /hubspot/actions/send-notification and \
            /hubspot/actions/edit-tags; after changing the public URL, archive the old definitions in HubSpot.

            Environment variables:
              HUBSPOT_APP_ID             the public app's id (or --app-id)
              HUBSPOT_DEVELOPER_API_KEY  developer API key (environment only; never logged)
              HUBSIGNAL_PUBLIC_URL       the URL HubSpot calls HubSignal at (or --public-url)
              HUBSPOT_BASE_URL           HubSpot's API (default https://api.hubapi.com)
            """)

    @OptionGroup var options: GlobalOptions
    @Option(name: .customLong("app-id"), help: "The public app's id (default: HUBSPOT_APP_ID).")
    var appID: String?
    @Option(name: .customLong("public-url"), help: "The external base URL HubSpot calls (default: HUBSIGNAL_PUBLIC_URL).")
    var publicURL: String?
    @Option(name: .customLong("base-url"), help: "HubSpot's API (default: HUBSPOT_BASE_URL or https://api.hubapi.com).")
    var baseURL: String?
    @Option(
        name: .customLong("onesignal-app"),
        help: "A OneSignal app workflows can choose (repeatable). Default: the configured apps (HUBSIGNAL_CONFIG) when there are several; with one app, the actions have no app input.")
    var oneSignalApps: [String] = []
    @Flag(help: "Print the two definitions (JSON) without calling HubSpot.")
    var dryRun = false

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let (configuration, logger) = try prepare(options, requireDatabase: false)
        do {
            let publicURL = try Self.publicURL(self.publicURL ?? configuration.publicURL)
            let configured = configuration.oneSignalApps.map(\.name)
            let appNames = oneSignalApps.isEmpty && configured.count > 1 ? configured : oneSignalApps
            let definitions = WorkflowActionDefinitions(publicURL: publicURL, appNames: appNames)
            if dryRun {
                let byName = Dictionary(uniqueKeysWithValues: definitions.all.map { ($0.action.rawValue, $0.definition) })
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(byName), as: UTF8.self))
                return
            }
            let appID = try Self.appID(self.appID ?? environment["HUBSPOT_APP_ID"])
            guard let key = environment["HUBSPOT_DEVELOPER_API_KEY"], !key.isEmpty else {
                throw InstallActionsError(
                    "HUBSPOT_DEVELOPER_API_KEY is not set: give the developer account's API key (HubSpot developer account → "
                        + "Apps → Get HubSpot API key) in the environment")
            }
            let baseURL = try Self.baseURL(self.baseURL ?? configuration.hubSpotBaseURL)
            // The token is not used: action definitions are app-level calls made with the developer key only.
            let client = HubSpotClient(
                configuration: .init(baseURL: baseURL, accessToken: ""),
                rateLimiter: HubSpotRateLimiter(limit: configuration.hubSpotRateLimit), logger: logger)
            let installations: [HubSpotActionInstallation]
            do {
                installations = try await client.installActionDefinitions(
                    definitions.all.map(\.definition), appID: appID, developerAPIKey: key)
            } catch let error as HubSpotError {
                throw InstallActionsError(Self.explain(error, appID: appID))
            }
            for installation in installations {
                print("\(installation.change.rawValue) \(installation.id) \(installation.actionURL)")
                if !installation.duplicateIDs.isEmpty {
                    print(
                        "  note: definitions \(installation.duplicateIDs.joined(separator: ", ")) also call this URL; "
                            + "archive them in HubSpot so the action shows once")
                }
            }
        } catch {
            throw fail(error)
        }
    }

    // MARK: - Configuration

    static func publicURL(_ value: String?) throws -> String {
        guard let value, !value.isEmpty else {
            throw InstallActionsError(
                "HUBSIGNAL_PUBLIC_URL is not set: give the external URL HubSpot calls HubSignal at, e.g. "
                    + "https://hubsignal.example.com (or --public-url)")
        }
        guard let url = URL(string: value), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
            throw InstallActionsError("the public URL \(value) must be an absolute http(s) URL such as https://hubsignal.example.com")
        }
        return value
    }

    private static func appID(_ value: String?) throws -> String {
        guard let value, !value.isEmpty else {
            throw InstallActionsError("HUBSPOT_APP_ID is not set: give the HubSpot public app's id (or --app-id)")
        }
        guard value.allSatisfy(\.isASCII), value.allSatisfy(\.isNumber) else {
            throw InstallActionsError("the app id \(value) must be the public app's numeric id (HUBSPOT_APP_ID or --app-id)")
        }
        return value
    }

    private static func baseURL(_ value: String) throws -> String {
        guard value.hasPrefix("http://") || value.hasPrefix("https://") else {
            throw InstallActionsError("the HubSpot base URL \(value) must be an http:// or https:// URL (HUBSPOT_BASE_URL or --base-url)")
        }
        return value
    }

    /// What went wrong, for an operator: the likely cause first, then HubSpot's own words (which never quote the key).
    private static func explain(_ error: HubSpotError, appID: String) -> String {
        let detail = error.debugDescription
        switch error.code {
        case .unauthorized:
            return "HubSpot refused the developer API key (check HUBSPOT_DEVELOPER_API_KEY): \(detail)"
        case .forbidden, .notFound:
            return "HubSpot refused access to app \(appID) (check HUBSPOT_APP_ID belongs to the developer account of the key): \(detail)"
        default:
            return "installing the workflow actions failed: \(detail)"
        }
    }
}

/// A configuration or installation problem of `install-actions`, worded for the operator.
struct InstallActionsError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
