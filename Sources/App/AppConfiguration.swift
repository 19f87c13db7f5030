import Foundation
import Ingestion
import Logging

/// Everything `hubsignal serve` needs, read from environment variables (and overridden by command-line flags).
///
/// Only this type reads the environment; the modules below take plain configuration values. Each property names its
/// variable; ``EnvironmentVariable/all`` says what each means and how it is checked, and the initial values are the
/// defaults.
public struct AppConfiguration: Sendable, Equatable {
    /// `DATABASE_URL`: a libpq connection string or URI.
    public var databaseURL: String
    /// `HUBSIGNAL_HOST`: where the public listener listens.
    public var host: String = "127.0.0.1"
    /// `HUBSIGNAL_PORT`: the public listener's port.
    public var port: Int = 8080
    /// `HUBSIGNAL_ADMIN_HOST`: where the operations listener (`/metrics`, `/readyz`, `/healthz`) listens.
    public var adminHost: String = "127.0.0.1"
    /// `HUBSIGNAL_ADMIN_PORT`: the operations listener's port.
    public var adminPort: Int = 9090
    /// `HUBSIGNAL_HTTP_IDLE_TIMEOUT_SECONDS`: how long a public connection may stay open with no request arriving.
    public var httpIdleTimeout: Duration = .seconds(75)
    /// `HUBSIGNAL_HTTP_REQUEST_TIMEOUT_SECONDS`: how long a request's head and body may take to arrive.
    public var httpRequestTimeout: Duration = .seconds(30)
    /// `HUBSIGNAL_HTTP_MAX_CONCURRENT_REQUESTS`: how many requests the public listener handles at once.
    public var httpMaximumConcurrentRequests: Int = 256
    /// `HUBSIGNAL_DB_MAX_CONNECTIONS`: the PostgreSQL pool size.
    public var databaseMaximumConnections: Int = 10
    /// `HUBSIGNAL_LOG_LEVEL`.
    public var logLevel: Logger.Level = .info
    /// `HUBSIGNAL_LOG_FORMAT`.
    public var logFormat: LogFormat = .text
    /// `HUBSIGNAL_MIGRATIONS_DIR`: where the `NNNN_name.sql` files are; `nil` searches the usual places.
    public var migrationsDirectory: String?
    /// `HUBSIGNAL_WRITE_KEYS`: the write keys the Segment-compatible API accepts; none refuses every request.
    public var writeKeys: [String] = []
    /// `HUBSIGNAL_CORS_ORIGINS`: the browser write keys and the origins (normalized, or `*`) whose pages may use each;
    /// a key not listed is a server key, refused to every page.
    public var corsOrigins: [String: [String]] = [:]
    /// `HUBSIGNAL_WRITE_KEY_RATE_LIMIT`: the requests each write key may send per period; `nil`: no limit.
    public var writeKeyRateLimit: RateLimit?
    /// `HUBSIGNAL_PUBLIC_URL`: the external base URL HubSpot calls; `nil` refuses HubSpot's requests.
    public var publicURL: String?
    /// `HUBSPOT_CLIENT_SECRET`: verifies HubSpot's signatures; `nil` refuses HubSpot's requests.
    public var hubSpotClientSecret: String?
    /// `ONESIGNAL_WEBHOOK_SECRET`: what OneSignal's event stream sends as `Authorization: Bearer …`; `nil` refuses it.
    public var oneSignalWebhookSecret: String?

    /// `HUBSPOT_ACCESS_TOKEN`: the private-app token HubSignal writes to HubSpot with; `nil` turns the HubSpot sync off.
    public var hubSpotAccessToken: String?
    /// `HUBSPOT_BASE_URL`: HubSpot's API.
    public var hubSpotBaseURL: String = "https://api.hubapi.com"
    /// `HUBSPOT_PORTAL_ID`: the one HubSpot account (Hub ID) accepted; `nil` refuses HubSpot's requests and sends no
    /// behavioral events.
    public var hubSpotPortalID: String?
    /// `HUBSPOT_RATE_LIMIT`: requests per 10 seconds HubSignal allows itself.
    public var hubSpotRateLimit: Int = 100
    /// `HUBSPOT_CLIENT_ID`: the HubSpot app's client id; with ``hubSpotClientSecret``, ``tokenKey`` and ``publicURL`` it
    /// turns on OAuth installs (``hubSpotOAuthIsConfigured``).
    public var hubSpotClientID: String?
    /// `HUBSIGNAL_TOKEN_KEY`: the AES-256 key (base64 of 32 bytes) the OAuth tokens are encrypted with at rest.
    public var tokenKey: String?
    /// `HUBSPOT_AUTHORIZE_URL`: HubSpot's OAuth authorize page.
    public var hubSpotAuthorizeURL: String = "https://app.hubspot.com/oauth/authorize"
    /// `ONESIGNAL_APP_ID`: the single OneSignal app (lowercased); `nil` (with ``oneSignalAPIKey``) when there is none.
    public var oneSignalAppID: String?
    /// `ONESIGNAL_API_KEY`: the single app's REST API key.
    public var oneSignalAPIKey: String?
    /// `HUBSIGNAL_CONFIG`'s OneSignal apps (several apps: one per brand or platform); then ``oneSignalAppID`` is `nil`.
    public var oneSignalAppsFromFile: [OneSignalAppConfiguration] = []
    /// `ONESIGNAL_BASE_URL`: OneSignal's API.
    public var oneSignalBaseURL: String = "https://api.onesignal.com"
    /// `HUBSIGNAL_SYNC_LINGER_MS`: how long a contact must be unchanged before it is pushed.
    public var syncLinger: Duration = .seconds(1)
    /// `HUBSIGNAL_SYNC_LEASE_SECONDS`: how long a hung but connected worker holds what it claimed.
    public var syncLease: Duration = .seconds(120)
    /// `HUBSIGNAL_DESTINATION_TIMEOUT_SECONDS`: how long a HubSpot or OneSignal request may take before it is retried.
    public var destinationTimeout: Duration = .seconds(30)
    /// `HUBSIGNAL_WORKER_ID`: this process's name in the delivery ledger and `hubsignal status`.
    public var workerID: String = "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)"

    /// `HUBSIGNAL_MAPPING`: the YAML mapping file; when the default file does not exist, the built-in defaults apply.
    public var mappingPath: String = "hubsignal.yaml"
    /// Whether `mappingPath` was named explicitly (then a missing file is an error).
    public var mappingPathIsExplicit = false
    /// `HUBSIGNAL_AUTO_REBUILD`: whether `serve` rebuilds projections by itself when the mapping changed (with `false`
    /// it refuses to start).
    public var autoRebuild = true
    /// `HUBSIGNAL_EVENT_PARTITION_SIZE`: events per partition of the log, applied by `hubsignal migrate` to the
    /// partitions it creates from then on (`nil`: keep the database's setting; 10,000,000 on a new database).
    public var eventPartitionSize: Int64?
    /// `HUBSIGNAL_RETENTION_REJECTIONS`: how long `rejections` rows are kept (`nil`: forever); see `retention`.
    public var retentionRejections: Duration? = .seconds(90 * 86_400)
    /// `HUBSIGNAL_RETENTION_DELIVERED`: how long the ledger rows of sent messages are kept (`nil`: forever).
    public var retentionDelivered: Duration? = .seconds(30 * 86_400)
    /// The variables set that are named like HubSignal's but that HubSignal does not read (most likely typos), sorted;
    /// `hubsignal config check` warns about them.
    public var unknownVariables: [String] = []

    /// A number of requests per period.
    public struct RateLimit: Sendable, Equatable {
        /// The requests allowed per ``period`` (also the largest burst).
        public var requests: Int
        /// The period, at least a second.
        public var period: Duration

        public init(requests: Int, period: Duration) {
            self.requests = requests
            self.period = period
        }
    }

    /// How log lines are written.
    public enum LogFormat: String, Sendable {
        case text, json
    }

    /// The defaults, with `databaseURL`; ``fromEnvironment(_:requireDatabase:)`` reads the rest.
    public init(databaseURL: String) {
        self.databaseURL = databaseURL
    }

    /// Reads the configuration from environment variables (``EnvironmentVariable/all``), and the configuration file
    /// `HUBSIGNAL_CONFIG` names: its `environment` section gives variables the environment does not set (the environment
    /// wins), its `onesignal_apps` the OneSignal apps. An empty variable counts as unset.
    ///
    /// - Parameter requireDatabase: whether a missing `DATABASE_URL` is an error.
    /// - Throws: ``ConfigurationError`` naming the first invalid variable and what it must be.
    public static func fromEnvironment(
        _ processEnvironment: [String: String] = ProcessInfo.processInfo.environment, requireDatabase: Bool = true
    ) throws -> AppConfiguration {
        var environment = processEnvironment
        if let path = processEnvironment[EnvironmentVariable.configurationFile.name], !path.isEmpty {
            let fileVariables = try OneSignalAppsFile.variables(path: path, environment: processEnvironment)
            environment.merge(fileVariables) { fromProcess, _ in fromProcess }
        }
        let databaseURL = environment[EnvironmentVariable.databaseURL.name] ?? ""
        if requireDatabase, databaseURL.isEmpty {
            throw ConfigurationError(
                "DATABASE_URL is not set: give it a libpq connection string (e.g. postgresql://user@host:5432/hubsignal), "
                    + "or run `hubsignal dev` to use a private PostgreSQL")
        }
        var configuration = AppConfiguration(databaseURL: databaseURL)
        for variable in EnvironmentVariable.all {
            guard let value = environment[variable.name], !value.isEmpty else { continue }
            try variable.apply(value, to: &configuration, environment: environment)
        }
        for key in configuration.corsOrigins.keys.sorted() where !configuration.writeKeys.contains(key) {
            throw ConfigurationError(
                "HUBSIGNAL_CORS_ORIGINS names a write key (id \(WriteKeys.id(of: key))) that is not in HUBSIGNAL_WRITE_KEYS: add it there, "
                    + "or remove it from HUBSIGNAL_CORS_ORIGINS")
        }
        if (configuration.oneSignalAppID == nil) != (configuration.oneSignalAPIKey == nil) {
            throw ConfigurationError("set both ONESIGNAL_APP_ID and ONESIGNAL_API_KEY (the app's REST API key), or neither")
        }
        if !configuration.oneSignalAppsFromFile.isEmpty && configuration.oneSignalAppID != nil {
            throw ConfigurationError(
                "both HUBSIGNAL_CONFIG (onesignal_apps) and ONESIGNAL_APP_ID are set: list every app in the file, or use the single-app variables")
        }
        configuration.unknownVariables = EnvironmentVariable.unknown(in: environment)
        return configuration
    }
}

extension AppConfiguration {
    /// The OneSignal apps HubSignal talks to: the file's, else the one app of `ONESIGNAL_APP_ID` / `ONESIGNAL_API_KEY`
    /// (named `default`), else none. The first is the default app.
    public var oneSignalApps: [OneSignalAppConfiguration] {
        if !oneSignalAppsFromFile.isEmpty { return oneSignalAppsFromFile }
        guard let appID = oneSignalAppID, let apiKey = oneSignalAPIKey else { return [] }
        return [OneSignalAppConfiguration(name: "default", appID: appID, apiKey: apiKey, webhookSecret: oneSignalWebhookSecret)]
    }
}

/// A configuration value is missing or invalid; the message names the variable and what to do.
public struct ConfigurationError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
