import Foundation
import HubSpot
import Logging
import Mapping
import Migrations
import OneSignal
import PQ

/// `hubsignal config check`: whether the configuration works — the database reachable and migrated, the mapping
/// valid, HubSpot's and every OneSignal app's credentials accepted, and the inbound endpoints able to authenticate.
public struct ConfigurationCheck: Sendable {
    /// One finding.
    public struct Finding: Sendable, Equatable, CustomStringConvertible {
        /// How bad a finding is.
        public enum Level: String, Sendable {
            /// Works.
            case ok
            /// Works, but something a production set-up usually wants is missing.
            case warning
            /// Does not work: `serve` would fail, or a destination would refuse every push.
            case problem
        }

        /// How bad it is.
        public var level: Level
        /// What was checked (`database`, `mapping`, `hubspot`, `onesignal:<app>`, …).
        public var subject: String
        /// What was found, and for a problem what to do.
        public var message: String

        public var description: String {
            let mark = switch level {
            case .ok: "ok     "
            case .warning: "warning"
            case .problem: "PROBLEM"
            }
            return "\(mark)  \(subject): \(message)"
        }
    }

    let configuration: AppConfiguration
    let logger: Logger
    /// The environment the configuration was read from, for the variables only some checks read
    /// (`HUBSPOT_APP_ID`, `HUBSPOT_DEVELOPER_API_KEY`).
    let variables: [String: String]
    /// How long a credential check waits for HubSpot or OneSignal.
    static let timeout: Duration = .seconds(5)

    /// A check of `configuration`, read from `variables`; nothing is tried until ``run()``.
    public init(
        configuration: AppConfiguration, logger: Logger, variables: [String: String] = ProcessInfo.processInfo.environment
    ) {
        self.configuration = configuration
        self.logger = logger
        self.variables = variables
    }

    /// Runs every check; never throws (each failure is a finding).
    public func run() async -> [Finding] {
        var findings: [Finding] = []
        findings += environment()
        findings += await database()
        findings.append(mapping())
        findings += inbound()
        findings += await hubSpot()
        findings += await timeline()
        findings += await oneSignal()
        return findings
    }

    /// A warning per variable named like HubSignal's that HubSignal does not read (most likely a typo); none when there
    /// is no such variable.
    func environment() -> [Finding] {
        configuration.unknownVariables.map { name in
            let hint = EnvironmentVariable.closest(to: name).map { " (did you mean \($0.name)?)" } ?? ""
            return Finding(level: .warning, subject: "environment", message: "\(name) is set, but HubSignal reads no such variable\(hint)")
        }
    }

    func database() async -> [Finding] {
        guard !configuration.databaseURL.isEmpty else {
            return [Finding(level: .problem, subject: "database", message: "DATABASE_URL is not set (serve needs it; dev starts its own)")]
        }
        let client = HubSignalService.makeClient(configuration, logger: logger)
        defer { Task { await client.shutdown() } }
        do {
            let version = try await client.query("SELECT current_setting('server_version')", name: "config.version")[0]
                .decode(String.self, at: 0)
            do {
                let migrations = try HubSignalService.loadMigrations(configuration)
                try await Migrator(client: client, migrations: migrations, logger: logger).checkUpToDate()
                return [Finding(level: .ok, subject: "database", message: "PostgreSQL \(version) reachable; schema current (\(migrations.migrations.count) migrations)")]
            } catch {
                return [Finding(level: .problem, subject: "database", message: "PostgreSQL \(version) reachable, but: \(error)")]
            }
        } catch {
            return [Finding(level: .problem, subject: "database", message: "cannot connect: \(error)")]
        }
    }

    func mapping() -> Finding {
        do {
            let mapping = try HubSignalService.loadMapping(configuration, logger: logger)
            return Finding(level: .ok, subject: "mapping", message: "\(configuration.mappingPath) valid (version \(mapping.version))")
        } catch {
            return Finding(level: .problem, subject: "mapping", message: "\(error)")
        }
    }

    func inbound() -> [Finding] {
        var findings: [Finding] = []
        findings.append(
            configuration.writeKeys.isEmpty
                ? Finding(level: .warning, subject: "segment api", message: "HUBSIGNAL_WRITE_KEYS is empty: every tracking request is refused")
                : Finding(level: .ok, subject: "segment api", message: "\(configuration.writeKeys.count) write key(s)"))
        findings += browserSources()
        // Without a secret HubSpot's calls are simply off; with one but no public URL or portal id they are refused
        // although the operator meant to take them: a problem.
        if let refusal = configuration.hubSpotInboundRefusal {
            findings.append(
                Finding(level: configuration.hubSpotClientSecret == nil ? .warning : .problem, subject: "hubspot webhooks", message: refusal))
        } else {
            findings.append(
                Finding(
                    level: .ok, subject: "hubspot webhooks",
                    message: "signatures over \(configuration.publicURL ?? "") verified with HUBSPOT_CLIENT_SECRET; portal "
                        + "\(configuration.hubSpotPortalID ?? "") only"))
        }
        for app in configuration.oneSignalApps where app.webhookSecret == nil && configuration.oneSignalWebhookSecret == nil {
            findings.append(
                Finding(
                    level: .warning, subject: "onesignal:\(app.name) events",
                    message: "no event-stream secret (webhook_secret or ONESIGNAL_WEBHOOK_SECRET): its message events are refused"))
        }
        return findings
    }

    /// The browser keys' origins (keys are not printed), whether the settings document points the SDKs back here,
    /// and the per-key rate limit.
    func browserSources() -> [Finding] {
        var findings: [Finding] = []
        let browserKeys = configuration.corsOrigins.filter { configuration.writeKeys.contains($0.key) }
        if browserKeys.isEmpty {
            findings.append(
                Finding(level: .ok, subject: "browser sources", message: "none: every write key is a server key, refused to pages (HUBSIGNAL_CORS_ORIGINS)"))
        } else {
            let origins = Set(browserKeys.values.joined()).sorted()
            let anyOrigin = origins.contains("*")
            findings.append(
                Finding(
                    level: anyOrigin ? .warning : .ok, subject: "browser sources",
                    message: "\(browserKeys.count) browser key(s) for \(origins.joined(separator: ", "))"
                        + (anyOrigin ? ": a key allowing * can be used from any page" : "")))
            if configuration.publicURL == nil {
                findings.append(
                    Finding(
                        level: .warning, subject: "browser sources",
                        message: "HUBSIGNAL_PUBLIC_URL is unset: the settings document names no apiHost, so a page loading it sends to api.segment.io unless its snippet sets apiHost"))
            }
        }
        if let limit = configuration.writeKeyRateLimit {
            findings.append(
                Finding(
                    level: .ok, subject: "rate limit",
                    message: "\(limit.requests) request(s) per \(limit.period.components.seconds) s per write key; beyond it 429 with Retry-After"))
        } else {
            findings.append(Finding(level: .ok, subject: "rate limit", message: "off (HUBSIGNAL_WRITE_KEY_RATE_LIMIT)"))
        }
        return findings
    }

    func hubSpot() async -> [Finding] {
        guard let token = configuration.hubSpotAccessToken else {
            return await hubSpotOAuth()
        }
        // A short timeout: an unreachable API is a finding, not a half-minute wait.
        let client = HubSpotClient(
            configuration: .init(baseURL: configuration.hubSpotBaseURL, accessToken: token, timeout: Self.timeout),
            rateLimiter: HubSpotRateLimiter(limit: configuration.hubSpotRateLimit), logger: logger)
        do {
            let properties = try await client.properties(of: "contacts")
            return [Finding(level: .ok, subject: "hubspot", message: "\(configuration.hubSpotBaseURL) accepts the token (\(properties.count) contact properties)")]
        } catch let error as HubSpotError {
            // The two refusals a new install meets, with where to look (docs/hubspot-app.md).
            let hint =
                switch error.code {
                case .unauthorized: "; copy the access token from the app's Auth tab in HubSpot (Development → Projects)"
                case .forbidden:
                    "; the token lacks a scope: upload the project of `hubsignal hubspot app` and install the app again (required: "
                        + HubSpotAppScopes.forAuthentication(.staticToken).required.map(\.rawValue).joined(separator: " ") + ")"
                default: ""
                }
            return [Finding(level: .problem, subject: "hubspot", message: "\(configuration.hubSpotBaseURL) refused: \(error.reason)\(hint)")]
        } catch {
            return [Finding(level: .problem, subject: "hubspot", message: "\(configuration.hubSpotBaseURL) unreachable: \(error)")]
        }
    }

    func oneSignal() async -> [Finding] {
        guard !configuration.oneSignalApps.isEmpty else {
            return [Finding(level: .warning, subject: "onesignal", message: "no OneSignal app configured: the OneSignal sync is off")]
        }
        var findings: [Finding] = []
        for app in configuration.oneSignalApps {
            let client = OneSignalClient(
                configuration: .init(baseURL: configuration.oneSignalBaseURL, appID: app.appID, apiKey: app.apiKey, timeout: Self.timeout),
                logger: logger)
            do {
                try await client.checkCredentials()
                findings.append(Finding(level: .ok, subject: "onesignal:\(app.name)", message: "\(app.appID) accepts the REST API key"))
            } catch let error as OneSignalError {
                let hint = error.code == .unauthorized ? " (check the app's REST API key)" : error.code == .notFound ? " (check the app id)" : ""
                findings.append(Finding(level: .problem, subject: "onesignal:\(app.name)", message: "\(app.appID) refused: \(error)\(hint)"))
            } catch {
                findings.append(Finding(level: .problem, subject: "onesignal:\(app.name)", message: "unreachable: \(error)"))
            }
        }
        return findings
    }
}
