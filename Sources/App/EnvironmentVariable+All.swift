import API
import Foundation
import HubSpotAuth
import Logging
import Operations

extension EnvironmentVariable {
    /// The configuration in force when no variable is set: where the documented defaults come from.
    private static let defaults = AppConfiguration(databaseURL: "")

    private static func code(_ value: Any) -> String { "`\(value)`" }
    private static func seconds(_ duration: Duration) -> Int { Int(duration.components.seconds) }
    private static func milliseconds(_ duration: Duration) -> Int {
        Int(duration.components.seconds) * 1000 + Int(duration.components.attoseconds / 1_000_000_000_000_000)
    }

    private static let oneSignalOff =
        "none: the OneSignal sync is off (users wait in `sync_status`, workflow notifications in `onesignal_outbox`)"

    static let databaseURL = EnvironmentVariable(
        "DATABASE_URL", summary: "libpq connection string or URI",
        details: "The tests and the benches use it too when it is set, instead of a private PostgreSQL they start.",
        default: "required for `serve` and `migrate`; `dev` starts its own",
        reader: .text(\.databaseURL))

    static let configurationFile = EnvironmentVariable(
        "HUBSIGNAL_CONFIG", summary: "an optional YAML configuration file: settings, and several OneSignal apps",
        details: "Its `environment:` section gives any variable of this table (the process environment wins; `${NAME}` takes a "
            + "value from the environment), its `onesignal_apps:` section lists several OneSignal apps (then "
            + "`ONESIGNAL_APP_ID` / `ONESIGNAL_API_KEY` must not be set; see "
            + "[several OneSignal apps](onesignal-sync.md#several-onesignal-apps)).",
        default: "none",
        reader: Reader { value, configuration, environment in
            configuration.oneSignalAppsFromFile = try OneSignalAppsFile.read(path: value, environment: environment)
        })

    /// Parses `HUBSIGNAL_CORS_ORIGINS`: `key=origin|origin,key2=*`.
    static func parseCORSOrigins(_ value: String) throws -> [String: [String]] {
        var result: [String: [String]] = [:]
        for entry in value.split(separator: ",") {
            // Origins never hold `=`; a key may (base64).
            guard let equals = entry.lastIndex(of: "="), case let key = entry[..<equals].trimmingCharacters(in: .whitespaces), !key.isEmpty
            else {
                throw Invalid("must be a comma-separated list of key=origin|origin (e.g. browser-key=https://app.example.com)")
            }
            var origins: [String] = []
            for text in entry[entry.index(after: equals)...].split(separator: "|") {
                let trimmed = text.trimmingCharacters(in: .whitespaces)
                if trimmed == "*" {
                    origins.append("*")
                } else if let origin = CORSPolicy.normalizedOrigin(trimmed) {
                    origins.append(origin)
                } else {
                    throw Invalid(
                        "has \"\(trimmed.prefix(100))\", which is not an origin: write scheme://host[:port] with no path "
                            + "(https://app.example.com), or *")
                }
            }
            guard !origins.isEmpty else { throw Invalid("lists no origin for a key: write key=https://app.example.com, or key=*") }
            result[key, default: []].append(contentsOf: origins)
        }
        return result
    }

    /// Parses a retention (`HUBSIGNAL_RETENTION_*`).
    private static func retention(_ value: String) throws -> Duration? {
        do { return try Retention.parse(value) } catch {
            throw Invalid("must be a duration such as 30d or 12h (units d, h, m, s), or off (0) to keep forever")
        }
    }

    /// Every variable HubSignal reads, the service's settings first.
    public static let all: [EnvironmentVariable] = [
        databaseURL,
        EnvironmentVariable(
            "HUBSIGNAL_HOST", summary: "where the HTTP server listens (`--host` overrides)", default: code(defaults.host),
            reader: .text(\.host)),
        EnvironmentVariable(
            "HUBSIGNAL_PORT", summary: "the HTTP server's port (`--port` overrides)", default: code(defaults.port),
            reader: .integer(\.port, in: 0...65535, "is not a port number (0-65535)")),
        EnvironmentVariable(
            "HUBSIGNAL_ADMIN_HOST", summary: "where the operations listener (`/metrics`, `/readyz`, `/healthz`) listens, apart from the API",
            details: "`0.0.0.0` only where a probe or Prometheus must reach it from outside the host or pod (Kubernetes), never "
                + "behind the public ingress.",
            default: code(defaults.adminHost), reader: .text(\.adminHost)),
        EnvironmentVariable(
            "HUBSIGNAL_ADMIN_PORT", summary: "the operations listener's port, never the public one", default: code(defaults.adminPort),
            reader: .integer(\.adminPort, in: 0...65535, "is not a port number (0-65535)")),
        EnvironmentVariable(
            "HUBSIGNAL_HTTP_IDLE_TIMEOUT_SECONDS", summary: "a connection on which no request arrives is closed after this long",
            details: "No request means nothing at all, or a request head that never ends; a request being handled is never cut "
                + "off by it.",
            default: code(seconds(defaults.httpIdleTimeout)) + " (longer than the 60 s of common load balancers, which then close first)",
            reader: .seconds(\.httpIdleTimeout, in: 1...3600, "must be a number of seconds from 1 to 3600")),
        EnvironmentVariable(
            "HUBSIGNAL_HTTP_REQUEST_TIMEOUT_SECONDS", summary: "how long a request's head and body may take to arrive, once its head has begun",
            details: "A connection on which a request arrives more slowly (a trickled body) is closed without an answer. Storing "
                + "the request is not limited by it.",
            default: code(seconds(defaults.httpRequestTimeout)),
            reader: .seconds(\.httpRequestTimeout, in: 1...600, "must be a number of seconds from 1 to 600")),
        EnvironmentVariable(
            "HUBSIGNAL_HTTP_MAX_CONCURRENT_REQUESTS", summary: "how many requests the public listener handles at once",
            details: "Handling is reading, parsing and storing; beyond the limit a request is answered `503` with `Retry-After: 1` "
                + "(`code: busy`) before its body is read. `/healthz` is exempt.",
            default: code(defaults.httpMaximumConcurrentRequests),
            reader: .integer(\.httpMaximumConcurrentRequests, in: 1...Int.max, "must be a positive integer")),
        EnvironmentVariable(
            "HUBSIGNAL_WRITE_KEYS", summary: "comma-separated write keys the Segment-compatible API accepts",
            default: "none: ingestion refuses all",
            reader: Reader { value, configuration, _ in
                configuration.writeKeys = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            }),
        EnvironmentVariable(
            "HUBSIGNAL_CORS_ORIGINS",
            summary: "the browser write keys, each with the web origins whose pages may send with it: `key=origin|origin,key2=*`",
            details: "An origin is `scheme://host[:port]` as browsers send it (`https://app.example.com`); `*` allows every page. "
                + "Each key must be one of `HUBSIGNAL_WRITE_KEYS`. A key not listed is a server key: a request from a web page "
                + "(an `Origin` header) is refused `403`. Preflights (`OPTIONS`) carry no key and are allowed when any key allows "
                + "the origin. See [browsers](http-api.md#browsers-cors).",
            default: "none: every key is a server key",
            reader: Reader { value, configuration, _ in
                configuration.corsOrigins = try parseCORSOrigins(value)
            }),
        EnvironmentVariable(
            "HUBSIGNAL_WRITE_KEY_RATE_LIMIT", summary: "requests each write key may send: `N` per second, or `N/S` per `S` seconds",
            details: "A token bucket per key: a burst of `N`, then `N` per period evenly. Over it a request is answered `429` "
                + "(`rate_limited`) with `Retry-After` and `X-RateLimit-Reset`, both the seconds to wait, which every Segment and "
                + "RudderStack SDK honours by retrying later; nothing of it is stored. Each process counts on its own.",
            default: "none: no limit",
            reader: Reader { value, configuration, _ in
                let parts = value.split(separator: "/", omittingEmptySubsequences: false)
                guard parts.count <= 2, let requests = Int(parts[0].trimmingCharacters(in: .whitespaces)), requests > 0,
                    let seconds = parts.count == 2 ? Int(parts[1].trimmingCharacters(in: .whitespaces)) : 1, seconds > 0
                else { throw Invalid("must be N (requests per second) or N/S (requests per S seconds), N and S positive integers") }
                configuration.writeKeyRateLimit = .init(requests: requests, period: .seconds(seconds))
            }),
        EnvironmentVariable(
            "HUBSIGNAL_PUBLIC_URL", summary: "the external base URL HubSpot calls; required with `HUBSPOT_CLIENT_SECRET`",
            details: "HubSpot's signatures cover the full URI, which HubSignal never builds from request headers (`Host`, "
                + "`X-Forwarded-*`).",
            default: "none: HubSpot requests are refused (`401`)",
            reader: Reader { value, configuration, _ in
                guard let url = URL(string: value), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
                    throw Invalid("must be an absolute http(s) URL such as https://hubsignal.example.com")
                }
                configuration.publicURL = value
            }),
        EnvironmentVariable(
            "HUBSPOT_CLIENT_SECRET", summary: "the HubSpot app's client secret: verifies webhook and workflow-action signatures",
            details: "It needs `HUBSIGNAL_PUBLIC_URL` and `HUBSPOT_PORTAL_ID`.", default: "none: HubSpot requests are refused",
            reader: .optionalText(\.hubSpotClientSecret)),
        EnvironmentVariable(
            "ONESIGNAL_WEBHOOK_SECRET", summary: "the secret OneSignal's event stream sends as `Authorization: Bearer …`",
            details: "An app of `HUBSIGNAL_CONFIG` may have its own (`webhook_secret`).", default: "none: OneSignal events are refused",
            reader: .optionalText(\.oneSignalWebhookSecret)),
        EnvironmentVariable(
            "HUBSIGNAL_DB_MAX_CONNECTIONS", summary: "size of the PostgreSQL connection pool",
            default: code(defaults.databaseMaximumConnections),
            reader: .integer(\.databaseMaximumConnections, in: 1...Int.max, "must be a positive integer")),
        EnvironmentVariable(
            "HUBSIGNAL_MIGRATIONS_DIR", summary: "folder of the `NNNN_name.sql` files",
            default: "`./migrations`, then `<bin>/../share/hubsignal/migrations`, then `/usr/share/hubsignal/migrations`",
            reader: .optionalText(\.migrationsDirectory)),
        configurationFile,
        EnvironmentVariable(
            "HUBSIGNAL_MAPPING", summary: "the YAML mapping file", details: "Its format: [the mapping file](mapping.md).",
            default: "\(code(defaults.mappingPath)); when that default file is absent, the built-in defaults (a file named "
                + "explicitly must exist)",
            reader: Reader { value, configuration, _ in
                configuration.mappingPath = value
                configuration.mappingPathIsExplicit = true
            }),
        EnvironmentVariable(
            "HUBSIGNAL_EVENT_PARTITION_SIZE", summary: "events per partition of the log (`hubsignal migrate` applies it to new partitions)",
            details: "At least 1,000; existing partitions keep their range. See [the partitioned log](operations.md#the-partitioned-log).",
            default: "`10000000` on a new database, else the database's setting",
            reader: Reader { value, configuration, _ in
                guard let size = Int64(value.replacingOccurrences(of: "_", with: "")), size >= 1_000 else {
                    throw Invalid("must be a whole number of events, at least 1000 (e.g. 10000000)")
                }
                configuration.eventPartitionSize = size
            }),
        EnvironmentVariable(
            "HUBSIGNAL_AUTO_REBUILD", summary: "`serve` rebuilds the read models by itself when the mapping changed",
            details: "With `false` it refuses to start and names `hubsignal rebuild`.", default: code(defaults.autoRebuild),
            reader: Reader { value, configuration, _ in
                switch value.lowercased() {
                case "true", "1", "yes", "on": configuration.autoRebuild = true
                case "false", "0", "no", "off": configuration.autoRebuild = false
                default: throw Invalid("must be true or false")
                }
            }),
        EnvironmentVariable(
            "HUBSIGNAL_RETENTION_REJECTIONS", summary: "how long `rejections` rows are kept: `30d`, `12h`, …, or `off` (`0`) for forever",
            details: "The running service deletes older rows every hour, in small transactions; `hubsignal retention` does it "
                + "now. See [retention](operations.md#retention).",
            default: code(Retention.format(defaults.retentionRejections)),
            reader: Reader { value, configuration, _ in configuration.retentionRejections = try retention(value) }),
        EnvironmentVariable(
            "HUBSIGNAL_RETENTION_DELIVERED",
            summary: "how long the ledger rows of sent messages (events, workflow notifications) are kept: `30d`, …, or `off` (`0`)",
            details: "Never less than a day; pending work and dead letters are never deleted. See "
                + "[retention](operations.md#retention).",
            default: code(Retention.format(defaults.retentionDelivered)),
            reader: Reader { value, configuration, _ in configuration.retentionDelivered = try retention(value) }),
        EnvironmentVariable(
            "HUBSIGNAL_LOG_LEVEL",
            summary: "`trace`, `debug`, `info`, `notice`, `warning`, `error` or `critical` (`--log-level` overrides)",
            default: code(defaults.logLevel.rawValue),
            reader: Reader { value, configuration, _ in
                guard let level = Logger.Level(rawValue: value.lowercased()) else {
                    throw Invalid("is not one of trace, debug, info, notice, warning, error, critical")
                }
                configuration.logLevel = level
            }),
        EnvironmentVariable(
            "HUBSIGNAL_LOG_FORMAT", summary: "`text`, or `json` (one object per line)", default: code(defaults.logFormat.rawValue),
            reader: Reader { value, configuration, _ in
                guard let format = AppConfiguration.LogFormat(rawValue: value.lowercased()) else { throw Invalid("is not text or json") }
                configuration.logFormat = format
            }),
        EnvironmentVariable(
            "HUBSPOT_ACCESS_TOKEN",
            summary: "the static auth token of HubSignal's HubSpot app, installed in one account (`Authorization: Bearer`); wins over OAuth",
            default: "none: OAuth installs when configured, else the HubSpot sync is off (contacts wait in `sync_status`)", reader: .optionalText(\.hubSpotAccessToken)),
        EnvironmentVariable(
            "HUBSPOT_BASE_URL", summary: "HubSpot's API (a sandbox in tests and `dev`)", default: code(defaults.hubSpotBaseURL),
            reader: .httpURL(\.hubSpotBaseURL)),
        EnvironmentVariable(
            "HUBSPOT_PORTAL_ID", summary: "the HubSpot account's Hub ID: the only portal accepted, and behavioral event names `pe<id>_…`",
            details: "Webhooks and workflow actions of any other portal are refused (`403 foreign_portal`). With OAuth installs "
                + "it may stay unset: the first install binds its portal (an install from another is refused).",
            default: "with OAuth, the portal of the first install; else none: HubSpot requests are refused, no behavioral events are sent",
            reader: Reader { value, configuration, _ in
                guard value.allSatisfy(\.isNumber) else { throw Invalid("must be the HubSpot account's numeric Hub ID") }
                configuration.hubSpotPortalID = value
            }),
        EnvironmentVariable(
            "HUBSPOT_RATE_LIMIT", summary: "requests per 10 seconds HubSignal allows itself (100, 110, 190 or 250 by plan and app type)",
            default: code(defaults.hubSpotRateLimit),
            reader: .integer(\.hubSpotRateLimit, in: 1...Int.max, "must be a positive number of requests per 10 seconds")),
        EnvironmentVariable(
            "HUBSPOT_CLIENT_ID", summary: "the HubSpot app's client id: turns on OAuth installs (`/hubspot/oauth/install`)",
            details: "OAuth installs also need `HUBSPOT_CLIENT_SECRET`, `HUBSIGNAL_TOKEN_KEY` and `HUBSIGNAL_PUBLIC_URL`; the app "
                + "lists `HUBSIGNAL_PUBLIC_URL/hubspot/oauth/callback` as a redirect URL. With `HUBSPOT_ACCESS_TOKEN` set, the sync "
                + "uses the static token instead (see [OAuth installs](hubspot-app.md#oauth-installs)).",
            default: "none: no OAuth installs", reader: .optionalText(\.hubSpotClientID)),
        EnvironmentVariable(
            "HUBSIGNAL_TOKEN_KEY", summary: "the key the OAuth tokens are encrypted with at rest: 32 random bytes, base64",
            details: "Make one with `openssl rand -base64 32`. Read from the environment only, never logged; losing or changing "
                + "it only costs a new install (see [security](security.md#hubspot-oauth-tokens)).",
            default: "none: no OAuth installs",
            reader: Reader { value, configuration, _ in
                guard HubSpotTokenCipher.isValidKey(value) else {
                    throw Invalid("must be 32 random bytes in base64 (`openssl rand -base64 32`)")
                }
                configuration.tokenKey = value
            }),
        EnvironmentVariable(
            "HUBSPOT_AUTHORIZE_URL", summary: "HubSpot's OAuth authorize page (a sandbox in tests and `dev`)",
            default: code(defaults.hubSpotAuthorizeURL), reader: .httpURL(\.hubSpotAuthorizeURL)),
        EnvironmentVariable(
            "ONESIGNAL_APP_ID", summary: "the OneSignal app (a UUID); set it and `ONESIGNAL_API_KEY`, or neither",
            default: oneSignalOff,
            reader: Reader { value, configuration, _ in
                guard UUID(uuidString: value) != nil else { throw Invalid("must be the OneSignal app id, a UUID (Settings > Keys & IDs)") }
                configuration.oneSignalAppID = value.lowercased()
            }),
        EnvironmentVariable(
            "ONESIGNAL_API_KEY", summary: "the app's REST API key (`Authorization: Key …`); set it and `ONESIGNAL_APP_ID`, or neither",
            default: oneSignalOff, reader: .optionalText(\.oneSignalAPIKey)),
        EnvironmentVariable(
            "ONESIGNAL_BASE_URL", summary: "OneSignal's API (a sandbox in tests and `dev`)", default: code(defaults.oneSignalBaseURL),
            reader: .httpURL(\.oneSignalBaseURL)),
        EnvironmentVariable(
            "HUBSIGNAL_SYNC_LINGER_MS", summary: "a contact or company is pushed once it has been unchanged this long (coalescing)",
            default: code(milliseconds(defaults.syncLinger)),
            reader: .milliseconds(\.syncLinger, in: 0...Int.max, "must be a number of milliseconds (0 or more)")),
        EnvironmentVariable(
            "HUBSIGNAL_SYNC_LEASE_SECONDS", summary: "how long a sync worker's claim lasts when its process is hung but still connected",
            details: "A claim of a process that died or lost its database session is taken over at once, whatever the lease; "
                + "keep it above the longest push.",
            default: code(seconds(defaults.syncLease)),
            reader: .seconds(\.syncLease, in: 5...Int.max, "must be a number of seconds, 5 or more (longer than a push takes)")),
        EnvironmentVariable(
            "HUBSIGNAL_DESTINATION_TIMEOUT_SECONDS",
            summary: "how long a HubSpot or OneSignal request may take; after that it counts as failed and is retried",
            details: "Its effect is then unknown, which upserts and idempotency keys make harmless.",
            default: code(seconds(defaults.destinationTimeout)),
            reader: .seconds(\.destinationTimeout, in: 1...600, "must be a number of seconds from 1 to 600")),
        EnvironmentVariable(
            "HUBSIGNAL_WORKER_ID", summary: "this process's name in the delivery ledger and `hubsignal status`",
            default: "`<hostname>-<pid>`", reader: .text(\.workerID)),

        EnvironmentVariable(
            "HUBSPOT_APP_ID", .hubSpotApp,
            summary: "the HubSpot public app whose custom workflow actions `hubsignal hubspot install-actions` registers (`--app-id` overrides), and whose timeline event template `serve` and `config check` read",
            default: "none: required by `install-actions`; the timeline template is not checked"),
        EnvironmentVariable(
            "HUBSPOT_DEVELOPER_API_KEY", .hubSpotApp,
            summary: "the developer account's API key `install-actions` registers the actions with and the timeline template is read with (sent as `hapikey`)",
            details: "Read from the environment only, never logged. `hubsignal sandbox hubspot` accepts it as the sandbox's "
                + "developer key (`--developer-api-key` overrides).",
            default: "none: required by `install-actions`; the timeline template is not checked"),

        EnvironmentVariable(
            "HUBSIGNAL_PG_BIN", .development, summary: "folder with `initdb` and `pg_ctl` for `dev`, the tests and the benches",
            default: "newest `/usr/lib/postgresql/*/bin`, then `PATH`"),
        EnvironmentVariable(
            "HUBSIGNAL_TEST_LOG_LEVEL", .development, summary: "the tests' log level (`debug` shows the logs of a run)",
            default: "`critical`"),
        EnvironmentVariable(
            "HUBSIGNAL_EXECUTABLE", .development, summary: "the `hubsignal` executable the fault tests and the soak bench start",
            default: "the one built next to the running test or bench"),
        EnvironmentVariable(
            "HUBSIGNAL_CHROMIUM", .development, summary: "the Chromium or Chrome the browser test (`BrowserTests`) runs headless",
            default: "Debian's `chromium` on the `PATH`; without one the test is skipped, saying so"),
        EnvironmentVariable(
            "HUBSIGNAL_UPDATE_DEPLOY", .development,
            summary: "`1`: `HubSpotAppProjectTests` writes the app project in `deploy/hubspot/` anew instead of comparing",
            default: "unset: the test compares"),
    ]
}
