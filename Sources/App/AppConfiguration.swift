import Foundation
import Logging

/// Everything `hubsignal serve` needs, read from environment variables (and overridden by command-line flags).
///
/// Only this type reads the environment; the modules below take plain configuration values.
public struct AppConfiguration: Sendable {
    /// `DATABASE_URL`: a libpq connection string or URI. Required for `serve`.
    public var databaseURL: String
    /// `HUBSIGNAL_HOST`. Defaults to `127.0.0.1`.
    public var host: String = "127.0.0.1"
    /// `HUBSIGNAL_PORT`. Defaults to `8080`.
    public var port: Int = 8080
    /// `HUBSIGNAL_ADMIN_HOST`: where the operations listener (`/metrics`, `/readyz`, `/healthz`) listens. Defaults to
    /// `127.0.0.1`: only the machine (or the pod, given `0.0.0.0`) reaches it.
    public var adminHost: String = "127.0.0.1"
    /// `HUBSIGNAL_ADMIN_PORT`: the operations listener's port, never the public one. Defaults to `9090`.
    public var adminPort: Int = 9090
    /// `HUBSIGNAL_HTTP_IDLE_TIMEOUT_SECONDS`: how long a connection of the public listener may stay open with no request
    /// arriving (including one whose request head is still coming) before it is closed. Defaults to 75 seconds (longer
    /// than the 60 seconds of common load balancers, which then close first).
    public var httpIdleTimeout: Duration = .seconds(75)
    /// `HUBSIGNAL_HTTP_REQUEST_TIMEOUT_SECONDS`: how long a request's head and body may take to arrive; a connection on
    /// which a request arrives more slowly (a trickled body) is closed. Storing the request is not limited by it.
    /// Defaults to 30 seconds.
    public var httpRequestTimeout: Duration = .seconds(30)
    /// `HUBSIGNAL_HTTP_MAX_CONCURRENT_REQUESTS`: how many requests the public listener handles at once; beyond it a
    /// request is answered `503` with `Retry-After` before its body is read. Defaults to 256.
    public var httpMaximumConcurrentRequests: Int = 256
    /// `HUBSIGNAL_DB_MAX_CONNECTIONS`: the PostgreSQL pool size. Defaults to `10`.
    public var databaseMaximumConnections: Int = 10
    /// `HUBSIGNAL_LOG_LEVEL`. Defaults to `info`.
    public var logLevel: Logger.Level = .info
    /// `HUBSIGNAL_LOG_FORMAT`: `text` or `json`. Defaults to `text`.
    public var logFormat: LogFormat = .text
    /// `HUBSIGNAL_MIGRATIONS_DIR`: where the `NNNN_name.sql` files are; `nil` searches the usual places.
    public var migrationsDirectory: String?
    /// `HUBSIGNAL_WRITE_KEYS`: comma-separated write keys the Segment-compatible API accepts. Defaults to none, which
    /// refuses every ingestion request.
    public var writeKeys: [String] = []
    /// `HUBSIGNAL_PUBLIC_URL`: the external base URL HubSpot calls; HubSpot's signatures cover the full URI, which is
    /// never taken from request headers. Defaults to `nil`: HubSpot's requests are refused.
    public var publicURL: String?
    /// `HUBSPOT_CLIENT_SECRET`: verifies HubSpot webhook and workflow-action signatures. Defaults to `nil`: HubSpot's
    /// requests are refused.
    public var hubSpotClientSecret: String?
    /// `ONESIGNAL_WEBHOOK_SECRET`: the secret OneSignal's event stream sends as `Authorization: Bearer …`. Defaults to
    /// `nil`: OneSignal's events are refused.
    public var oneSignalWebhookSecret: String?

    /// `HUBSPOT_ACCESS_TOKEN`: the private-app access token HubSignal writes to HubSpot with. Defaults to `nil`: the
    /// HubSpot sync is off (contacts wait in `sync_status`).
    public var hubSpotAccessToken: String?
    /// `HUBSPOT_BASE_URL`: HubSpot's API. Defaults to `https://api.hubapi.com`.
    public var hubSpotBaseURL: String = "https://api.hubapi.com"
    /// `HUBSPOT_PORTAL_ID`: the HubSpot account (Hub ID); behavioral event names are `pe<portal id>_…`, and webhooks and
    /// workflow actions are accepted from this portal only. Defaults to `nil`: no behavioral events are sent and
    /// HubSpot's requests are refused.
    public var hubSpotPortalID: String?
    /// `HUBSPOT_RATE_LIMIT`: requests per 10 seconds HubSignal allows itself (100, 110, 190 or 250 by plan and app
    /// type). Defaults to 100.
    public var hubSpotRateLimit: Int = 100
    /// `ONESIGNAL_APP_ID` and `ONESIGNAL_API_KEY`: the OneSignal app and its REST API key. Defaults to `nil`: the
    /// OneSignal sync is off (users wait in `sync_status`, workflow notifications in `onesignal_outbox`).
    public var oneSignalAppID: String?
    public var oneSignalAPIKey: String?
    /// `HUBSIGNAL_CONFIG`: the configuration file's OneSignal apps (several apps: one per brand or platform). When
    /// it lists apps, the single-app variables `ONESIGNAL_APP_ID` / `ONESIGNAL_API_KEY` must not be set.
    public var oneSignalAppsFromFile: [OneSignalAppConfiguration] = []
    /// `ONESIGNAL_BASE_URL`: OneSignal's API. Defaults to `https://api.onesignal.com`.
    public var oneSignalBaseURL: String = "https://api.onesignal.com"
    /// `HUBSIGNAL_SYNC_LINGER_MS`: how long a contact must be unchanged before it is pushed (coalescing). Defaults to
    /// 1000 ms.
    public var syncLinger: Duration = .seconds(1)
    /// `HUBSIGNAL_SYNC_LEASE_SECONDS`: how long a worker holds what it claimed before another process may take it over
    /// while the worker is hung but still connected (the claims of a process that died, or lost its database session,
    /// are taken over at once). Defaults to 120 seconds.
    public var syncLease: Duration = .seconds(120)
    /// `HUBSIGNAL_DESTINATION_TIMEOUT_SECONDS`: how long a HubSpot or OneSignal request may take before it counts as
    /// failed and is retried (its outcome unknown: retries are upserts or carry idempotency keys). Defaults to 30 seconds.
    public var destinationTimeout: Duration = .seconds(30)
    /// `HUBSIGNAL_WORKER_ID`: this process's name in the delivery ledger and `hubsignal status`. Defaults to
    /// `<hostname>-<pid>`.
    public var workerID: String = "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)"

    /// `HUBSIGNAL_MAPPING`: the YAML mapping file. Defaults to `hubsignal.yaml` in the working directory; when that
    /// default file does not exist, the built-in defaults apply (a file named explicitly must exist).
    public var mappingPath: String = "hubsignal.yaml"
    /// Whether `mappingPath` was named explicitly (then a missing file is an error).
    public var mappingPathIsExplicit = false
    /// `HUBSIGNAL_AUTO_REBUILD`: whether `serve` rebuilds projections by itself when the mapping changed. Defaults to
    /// `true`; with `false` it refuses to start and names `hubsignal rebuild`.
    public var autoRebuild = true

    /// How log lines are written.
    public enum LogFormat: String, Sendable {
        case text, json
    }

    public init(databaseURL: String) {
        self.databaseURL = databaseURL
    }

    /// Reads the configuration from environment variables, and the configuration file `HUBSIGNAL_CONFIG` names: its
    /// `environment` section gives variables the environment does not set (the environment wins), its
    /// `onesignal_apps` the OneSignal apps.
    ///
    /// - Parameter requireDatabase: whether a missing `DATABASE_URL` is an error.
    public static func fromEnvironment(
        _ processEnvironment: [String: String] = ProcessInfo.processInfo.environment, requireDatabase: Bool = true
    ) throws -> AppConfiguration {
        var environment = processEnvironment
        if let path = processEnvironment["HUBSIGNAL_CONFIG"], !path.isEmpty {
            let fileVariables = try OneSignalAppsFile.variables(path: path, environment: processEnvironment)
            environment.merge(fileVariables) { fromProcess, _ in fromProcess }
        }
        let databaseURL = environment["DATABASE_URL"] ?? ""
        if requireDatabase, databaseURL.isEmpty {
            throw ConfigurationError(
                "DATABASE_URL is not set: give it a libpq connection string (e.g. postgresql://user@host:5432/hubsignal), "
                    + "or run `hubsignal dev` to use a private PostgreSQL")
        }
        var configuration = AppConfiguration(databaseURL: databaseURL)
        if let host = environment["HUBSIGNAL_HOST"], !host.isEmpty { configuration.host = host }
        if let port = environment["HUBSIGNAL_PORT"], !port.isEmpty {
            guard let value = Int(port), (0...65535).contains(value) else {
                throw ConfigurationError("HUBSIGNAL_PORT=\(port) is not a port number (0-65535)")
            }
            configuration.port = value
        }
        if let host = environment["HUBSIGNAL_ADMIN_HOST"], !host.isEmpty { configuration.adminHost = host }
        if let port = environment["HUBSIGNAL_ADMIN_PORT"], !port.isEmpty {
            guard let value = Int(port), (0...65535).contains(value) else {
                throw ConfigurationError("HUBSIGNAL_ADMIN_PORT=\(port) is not a port number (0-65535)")
            }
            configuration.adminPort = value
        }
        if let timeout = environment["HUBSIGNAL_HTTP_IDLE_TIMEOUT_SECONDS"], !timeout.isEmpty {
            guard let value = Int(timeout), (1...3600).contains(value) else {
                throw ConfigurationError("HUBSIGNAL_HTTP_IDLE_TIMEOUT_SECONDS=\(timeout) must be a number of seconds from 1 to 3600")
            }
            configuration.httpIdleTimeout = .seconds(value)
        }
        if let timeout = environment["HUBSIGNAL_HTTP_REQUEST_TIMEOUT_SECONDS"], !timeout.isEmpty {
            guard let value = Int(timeout), (1...600).contains(value) else {
                throw ConfigurationError("HUBSIGNAL_HTTP_REQUEST_TIMEOUT_SECONDS=\(timeout) must be a number of seconds from 1 to 600")
            }
            configuration.httpRequestTimeout = .seconds(value)
        }
        if let limit = environment["HUBSIGNAL_HTTP_MAX_CONCURRENT_REQUESTS"], !limit.isEmpty {
            guard let value = Int(limit), value > 0 else {
                throw ConfigurationError("HUBSIGNAL_HTTP_MAX_CONCURRENT_REQUESTS=\(limit) must be a positive integer")
            }
            configuration.httpMaximumConcurrentRequests = value
        }
        if let size = environment["HUBSIGNAL_DB_MAX_CONNECTIONS"], !size.isEmpty {
            guard let value = Int(size), value > 0 else {
                throw ConfigurationError("HUBSIGNAL_DB_MAX_CONNECTIONS=\(size) must be a positive integer")
            }
            configuration.databaseMaximumConnections = value
        }
        if let level = environment["HUBSIGNAL_LOG_LEVEL"], !level.isEmpty {
            guard let value = Logger.Level(rawValue: level.lowercased()) else {
                throw ConfigurationError(
                    "HUBSIGNAL_LOG_LEVEL=\(level) is not one of trace, debug, info, notice, warning, error, critical")
            }
            configuration.logLevel = value
        }
        if let format = environment["HUBSIGNAL_LOG_FORMAT"], !format.isEmpty {
            guard let value = LogFormat(rawValue: format.lowercased()) else {
                throw ConfigurationError("HUBSIGNAL_LOG_FORMAT=\(format) is not text or json")
            }
            configuration.logFormat = value
        }
        if let keys = environment["HUBSIGNAL_WRITE_KEYS"] {
            configuration.writeKeys = keys.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        if let url = environment["HUBSIGNAL_PUBLIC_URL"], !url.isEmpty {
            guard let parsed = URL(string: url), let scheme = parsed.scheme, ["http", "https"].contains(scheme), parsed.host != nil else {
                throw ConfigurationError("HUBSIGNAL_PUBLIC_URL=\(url) must be an absolute http(s) URL such as https://hubsignal.example.com")
            }
            configuration.publicURL = url
        }
        if let secret = environment["HUBSPOT_CLIENT_SECRET"], !secret.isEmpty { configuration.hubSpotClientSecret = secret }
        if let secret = environment["ONESIGNAL_WEBHOOK_SECRET"], !secret.isEmpty { configuration.oneSignalWebhookSecret = secret }
        if let token = environment["HUBSPOT_ACCESS_TOKEN"], !token.isEmpty { configuration.hubSpotAccessToken = token }
        if let url = environment["HUBSPOT_BASE_URL"], !url.isEmpty {
            guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                throw ConfigurationError("HUBSPOT_BASE_URL=\(url) must be an http:// or https:// URL")
            }
            configuration.hubSpotBaseURL = url
        }
        if let portal = environment["HUBSPOT_PORTAL_ID"], !portal.isEmpty {
            guard portal.allSatisfy(\.isNumber) else {
                throw ConfigurationError("HUBSPOT_PORTAL_ID=\(portal) must be the HubSpot account's numeric Hub ID")
            }
            configuration.hubSpotPortalID = portal
        }
        if let limit = environment["HUBSPOT_RATE_LIMIT"], !limit.isEmpty {
            guard let value = Int(limit), value > 0 else {
                throw ConfigurationError("HUBSPOT_RATE_LIMIT=\(limit) must be a positive number of requests per 10 seconds")
            }
            configuration.hubSpotRateLimit = value
        }
        if let app = environment["ONESIGNAL_APP_ID"], !app.isEmpty {
            guard UUID(uuidString: app) != nil else {
                throw ConfigurationError("ONESIGNAL_APP_ID=\(app) must be the OneSignal app id, a UUID (Settings > Keys & IDs)")
            }
            configuration.oneSignalAppID = app.lowercased()
        }
        if let key = environment["ONESIGNAL_API_KEY"], !key.isEmpty { configuration.oneSignalAPIKey = key }
        if (configuration.oneSignalAppID == nil) != (configuration.oneSignalAPIKey == nil) {
            throw ConfigurationError("set both ONESIGNAL_APP_ID and ONESIGNAL_API_KEY (the app's REST API key), or neither")
        }
        if let url = environment["ONESIGNAL_BASE_URL"], !url.isEmpty {
            guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                throw ConfigurationError("ONESIGNAL_BASE_URL=\(url) must be an http:// or https:// URL")
            }
            configuration.oneSignalBaseURL = url
        }
        if let path = environment["HUBSIGNAL_CONFIG"], !path.isEmpty {
            configuration.oneSignalAppsFromFile = try OneSignalAppsFile.read(path: path, environment: environment)
            if !configuration.oneSignalAppsFromFile.isEmpty && configuration.oneSignalAppID != nil {
                throw ConfigurationError(
                    "both HUBSIGNAL_CONFIG (onesignal_apps) and ONESIGNAL_APP_ID are set: list every app in the file, or use the single-app variables")
            }
        }
        if let linger = environment["HUBSIGNAL_SYNC_LINGER_MS"], !linger.isEmpty {
            guard let value = Int(linger), value >= 0 else {
                throw ConfigurationError("HUBSIGNAL_SYNC_LINGER_MS=\(linger) must be a number of milliseconds (0 or more)")
            }
            configuration.syncLinger = .milliseconds(value)
        }
        if let worker = environment["HUBSIGNAL_WORKER_ID"], !worker.isEmpty { configuration.workerID = worker }
        if let lease = environment["HUBSIGNAL_SYNC_LEASE_SECONDS"], !lease.isEmpty {
            guard let value = Int(lease), value >= 5 else {
                throw ConfigurationError("HUBSIGNAL_SYNC_LEASE_SECONDS=\(lease) must be a number of seconds, 5 or more (longer than a push takes)")
            }
            configuration.syncLease = .seconds(value)
        }
        if let timeout = environment["HUBSIGNAL_DESTINATION_TIMEOUT_SECONDS"], !timeout.isEmpty {
            guard let value = Int(timeout), (1...600).contains(value) else {
                throw ConfigurationError("HUBSIGNAL_DESTINATION_TIMEOUT_SECONDS=\(timeout) must be a number of seconds from 1 to 600")
            }
            configuration.destinationTimeout = .seconds(value)
        }
        if let directory = environment["HUBSIGNAL_MIGRATIONS_DIR"], !directory.isEmpty {
            configuration.migrationsDirectory = directory
        }
        if let path = environment["HUBSIGNAL_MAPPING"], !path.isEmpty {
            configuration.mappingPath = path
            configuration.mappingPathIsExplicit = true
        }
        if let value = environment["HUBSIGNAL_AUTO_REBUILD"], !value.isEmpty {
            switch value.lowercased() {
            case "true", "1", "yes", "on": configuration.autoRebuild = true
            case "false", "0", "no", "off": configuration.autoRebuild = false
            default: throw ConfigurationError("HUBSIGNAL_AUTO_REBUILD=\(value) must be true or false")
            }
        }
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
