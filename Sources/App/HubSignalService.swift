import API
import Delivery
import Operations
import EventStore
import Foundation
import HubSpot
import HubSpotAuth
import Hummingbird
import HummingbirdCore
import Ingestion
import Logging
import Mapping
import OneSignal
import Migrations
import NIOCore
import Projections
import Metrics
import PQ
import Prometheus
import ServiceLifecycle

/// The composition root of `hubsignal serve`: the PostgreSQL pool, the event-log watcher and the HTTP server, run as
/// one `ServiceGroup` (shut down in reverse order on SIGTERM or SIGINT).
public enum HubSignalService {
    /// Loads the migrations this build uses.
    public static func loadMigrations(_ configuration: AppConfiguration) throws -> MigrationSet {
        let directory = try configuration.migrationsDirectory.map { URL(fileURLWithPath: $0) } ?? MigrationSet.defaultDirectory()
        return try MigrationSet.load(from: directory)
    }

    /// Makes the PostgreSQL client the configuration describes.
    public static func makeClient(_ configuration: AppConfiguration, logger: Logger) -> PQClient {
        var clientConfiguration = PQClient.Configuration(connectionString: configuration.databaseURL)
        clientConfiguration.maximumConnections = configuration.databaseMaximumConnections
        return PQClient(configuration: clientConfiguration, logger: logger)
    }

    /// Runs the service until SIGTERM or SIGINT. Refuses to start on a database whose schema is behind this build.
    ///
    /// - Parameters:
    ///   - metrics: the registry `/metrics` exposes; the caller bootstraps `MetricsSystem` with it.
    ///   - onServerRunning: called with the public listener's port once it listens.
    ///   - onAdminServerRunning: called with the operations listener's port (`/metrics`, `/readyz`) once it listens.
    public static func serve(
        _ configuration: AppConfiguration, logger: Logger, metrics: PrometheusCollectorRegistry? = nil,
        onServerRunning: (@Sendable (Int) async -> Void)? = nil, onAdminServerRunning: (@Sendable (Int) async -> Void)? = nil
    ) async throws {
        let migrations = try loadMigrations(configuration)
        let mapping = try loadMapping(configuration, logger: logger)
        let client = makeClient(configuration, logger: logger)
        do {
            try await Migrator(client: client, migrations: migrations, logger: logger).checkUpToDate()
        } catch {
            await client.shutdown()
            throw error
        }
        if configuration.writeKeys.isEmpty {
            logger.warning("HUBSIGNAL_WRITE_KEYS is empty: the Segment-compatible API refuses every request")
        }
        if let refusal = configuration.hubSpotInboundRefusal {
            logger.warning("\(refusal)")
        }
        if configuration.oneSignalWebhookSecret == nil {
            logger.warning("ONESIGNAL_WEBHOOK_SECRET is not set: OneSignal events are refused")
        }
        let watcher = LogWatcher(connectionString: configuration.databaseURL, logger: logger)
        let claimHolder = ClaimHolder(connectionString: configuration.databaseURL, logger: logger)
        let store = EventStore(client: client, logger: logger)
        let oauth: HubSpotOAuthComponents?
        do {
            oauth = try makeHubSpotOAuth(configuration, client: client, logger: logger)
        } catch {
            await client.shutdown()
            throw error
        }
        if oauth != nil, configuration.hubSpotAccessToken != nil {
            logger.warning("HUBSPOT_ACCESS_TOKEN and OAuth installs are both configured: the HubSpot sync writes with the static token")
        }
        let application = makeApplication(
            configuration: configuration, client: client, logger: logger, oauth: oauth, onServerRunning: onServerRunning)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: client), .init(service: watcher),
            // Ties the syncs' claims to this process's database session; listed before them, so it stops after them.
            .init(service: claimHolder),
            .init(
                service: PeopleProjectionService(
                    store: store, watcher: watcher, mapping: mapping, autoRebuild: configuration.autoRebuild, logger: logger),
                failureTerminationBehavior: .gracefullyShutdownGroup),
        ]
        // The static token when there is one, else the OAuth installation's tokens.
        let hubSpotClient = makeHubSpotClient(configuration, logger: logger)
            ?? oauth.map { makeHubSpotClient(configuration, tokenSource: $0.tokenSource, logger: logger) }
        let makeHubSpotSync = { @Sendable (hubSpot: HubSpotClient, portalID: String?) -> HubSpotSync in
            var syncConfiguration = HubSpotSync.Configuration(owner: configuration.workerID)
            syncConfiguration.linger = configuration.syncLinger
            syncConfiguration.lease = configuration.syncLease
            syncConfiguration.holder = claimHolder
            syncConfiguration.portalID = portalID
            return HubSpotSync(
                configuration: syncConfiguration, client: hubSpot, database: client, store: store, mapping: mapping,
                watcher: watcher, logger: logger)
        }
        if hubSpotClient != nil, mapping.timeline.mode == .timelineEvent {
            // Not assumed: a static-auth app writes notes instead, an OAuth app's template is read from HubSpot.
            for finding in await ConfigurationCheck(configuration: configuration, logger: logger).timeline() where finding.level != .ok {
                logger.warning("hubspot timeline: \(finding.message)")
            }
        }
        if let hubSpot = hubSpotClient {
            if configuration.hubSpotAccessToken == nil, configuration.hubSpotPortalID == nil, let oauth {
                // The portal comes from the install, which may not have happened yet.
                services.append(
                    .init(
                        service: AwaitingHubSpotInstall(
                            installations: oauth.installations, interval: .seconds(2), logger: logger,
                            makeSync: { portal in makeHubSpotSync(hubSpot, portal) })))
            } else {
                services.append(.init(service: makeHubSpotSync(hubSpot, configuration.hubSpotPortalID)))
            }
        } else {
            logger.warning("HUBSPOT_ACCESS_TOKEN is not set and OAuth installs are not configured: the HubSpot sync is off (contacts wait in sync_status)")
        }
        // One OneSignal sync per app (its own rate limits, ledger rows and dead letters); the first also queues the
        // workflow notifications of every app.
        let completer = hubSpotClient.map(workflowCompleter)
        for (index, app) in configuration.oneSignalApps.enumerated() {
            var syncConfiguration = OneSignalSync.Configuration(owner: configuration.workerID, app: app.name)
            syncConfiguration.linger = configuration.syncLinger
            syncConfiguration.lease = configuration.syncLease
            syncConfiguration.holder = claimHolder
            syncConfiguration.runsOutbox = index == 0
            services.append(
                .init(
                    service: OneSignalSync(
                        configuration: syncConfiguration, client: makeOneSignalClient(app, configuration, logger: logger),
                        database: client, store: store, mapping: mapping, completer: completer, watcher: watcher,
                        logger: logger)))
        }
        if configuration.oneSignalApps.isEmpty {
            logger.warning("no OneSignal app is configured (ONESIGNAL_APP_ID or HUBSIGNAL_CONFIG): the OneSignal sync is off")
        }
        services.append(.init(service: PrivacyDeletions(store: store, watcher: watcher, logger: logger)))
        services.append(.init(service: EventPartitionMaintenance(store: store, logger: logger)))
        // Retention of the operational tables (HUBSIGNAL_RETENTION_*): finished rows only, never `events`.
        services.append(.init(service: RetentionService(client: client, configuration: configuration.retention, logger: logger)))
        services.append(.init(service: application))
        services.append(
            .init(
                service: makeAdminApplication(
                    configuration: configuration, client: client, migrations: migrations, logger: logger, metrics: metrics,
                    onServerRunning: onAdminServerRunning)))
        let group = ServiceGroup(
            configuration: .init(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
    }

    /// The HubSpot client the configuration describes, or `nil` when no access token is configured.
    public static func makeHubSpotClient(_ configuration: AppConfiguration, logger: Logger) -> HubSpotClient? {
        guard let token = configuration.hubSpotAccessToken else { return nil }
        return HubSpotClient(
            configuration: .init(baseURL: configuration.hubSpotBaseURL, accessToken: token, timeout: configuration.destinationTimeout),
            rateLimiter: HubSpotRateLimiter(limit: configuration.hubSpotRateLimit), logger: logger)
    }

    /// The OneSignal client of one configured app.
    public static func makeOneSignalClient(
        _ app: OneSignalAppConfiguration, _ configuration: AppConfiguration, logger: Logger
    ) -> OneSignalClient {
        OneSignalClient(
            configuration: .init(
                baseURL: configuration.oneSignalBaseURL, appID: app.appID, apiKey: app.apiKey, timeout: configuration.destinationTimeout),
            logger: logger)
    }

    /// Completes HubSpot workflow actions through `client` (`POST /automation/v4/actions/callbacks/{id}/complete`).
    static func workflowCompleter(_ client: HubSpotClient) -> WorkflowActionCompleter {
        WorkflowActionCompleter { callbackID, fields in
            try await client.completeWorkflowAction(callbackID: callbackID, outputFields: fields)
        }
    }

    /// The configured OneSignal apps as the read models see them (names, ids, tag limits; no secrets).
    static func targets(_ configuration: AppConfiguration) -> [OneSignalAppTarget] {
        configuration.oneSignalApps.map { OneSignalAppTarget(name: $0.name, appID: $0.appID, tagLimit: $0.tagLimit) }
    }

    /// Loads and validates the mapping file (`HUBSIGNAL_MAPPING`); the built-in defaults when the default file is absent.
    ///
    /// - Throws: `MappingError` naming the file, the key and what to change.
    public static func loadMapping(_ configuration: AppConfiguration, logger: Logger) throws -> Mapping {
        if !configuration.mappingPathIsExplicit && !FileManager.default.fileExists(atPath: configuration.mappingPath) {
            let mapping = Mapping.defaults.targeting(oneSignalApps: targets(configuration))
            logger.notice(
                "no mapping file: using the built-in defaults (set HUBSIGNAL_MAPPING to use one)",
                metadata: ["mapping.path": "\(configuration.mappingPath)", "mapping.version": "\(mapping.version)"])
            return mapping
        }
        let mapping = try Mapping.load(contentsOf: configuration.mappingPath).targeting(oneSignalApps: targets(configuration))
        logger.info(
            "mapping loaded", metadata: ["mapping.path": "\(configuration.mappingPath)", "mapping.version": "\(mapping.version)"])
        return mapping
    }

    /// The public HTTP application: ingestion, HubSpot's and OneSignal's calls, and `/healthz` (the process is up; no
    /// query). `/readyz` and `/metrics` are on the operations listener,
    /// ``makeAdminApplication(configuration:client:migrations:logger:metrics:onServerRunning:)``.
    ///
    /// - Parameter oauth: the OAuth install flow and installation (``makeHubSpotOAuth(_:client:logger:)``); `nil`: the
    ///   `/hubspot/oauth/*` routes answer `404` with what to configure.
    public static func makeApplication(
        configuration: AppConfiguration, client: PQClient, logger: Logger, oauth: HubSpotOAuthComponents? = nil,
        onServerRunning: (@Sendable (Int) async -> Void)? = nil
    ) -> some ApplicationProtocol {
        let router = Router()
        router.add(middleware: MetricsMiddleware())
        let cors = CORSPolicy(originsByWriteKey: configuration.corsOrigins)
        router.add(middleware: ConcurrencyLimit(maximumRequests: configuration.httpMaximumConcurrentRequests, cors: cors))
        let store = EventStore(client: client, logger: logger)
        SegmentController(
            store: store, writeKeys: WriteKeys(configuration.writeKeys), cors: cors, publicURL: configuration.publicURL,
            rateLimit: configuration.writeKeyRateLimit.map { WriteKeyRateLimit(requests: $0.requests, per: $0.period) }
        ).register(on: router)
        let binding = oauth.map { oauth in
            HubSpotPortalBinding(configured: configuration.hubSpotPortalID) { try await oauth.installations.current()?.portalID }
        }
        let hubSpotController = HubSpotController(
            store: store, clientSecret: configuration.hubSpotClientSecret, publicURL: configuration.publicURL,
            portalID: configuration.hubSpotPortalID,
            completesNotificationsLater: configuration.hasHubSpotCredentials && !configuration.oneSignalApps.isEmpty,
            oneSignalApps: configuration.oneSignalApps.map(\.name), portalBinding: binding
        )
        hubSpotController.register(on: router)
        HubSpotActionOptionsController(
            hubSpot: hubSpotController, templates: makeTemplateOptionsCache(configuration, logger: logger)
        ).register(on: router)
        HubSpotOAuthController(
            flow: oauth.flatMap { oauth in binding.map { HubSpotOAuthInstallFlow(installer: oauth.installer, binding: $0) } },
            publicURL: configuration.publicURL
        ).register(on: router)
        OneSignalController(
            store: store, secret: configuration.oneSignalWebhookSecret,
            apps: configuration.oneSignalApps.map { .init(name: $0.name, appID: $0.appID, secret: $0.webhookSecret) }
        ).register(on: router)
        router.get("healthz") { _, _ in
            HealthResponse(status: "ok")
        }
        // Slow and idle clients: an idle connection is closed after `httpIdleTimeout`, a request whose head and body
        // take longer than `httpRequestTimeout` to arrive has its connection closed.
        let requestTimeout = TimeAmount(configuration.httpRequestTimeout)
        let server = HTTPServerBuilder.http1(
            configuration: .init(
                additionalChannelHandlers: [RequestReadDeadline(timeout: requestTimeout, logger: logger)],
                idleTimeout: TimeAmount(configuration.httpIdleTimeout)))
        return Application(
            router: router, server: server,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "hubsignal"),
            onServerRunning: { channel in await onServerRunning?(channel.localAddress?.port ?? configuration.port) },
            logger: logger)
    }

    /// The operations listener (`HUBSIGNAL_ADMIN_HOST`:`HUBSIGNAL_ADMIN_PORT`, loopback by default), apart from the
    /// public one: `/metrics` (when `metrics` is given), `/readyz` (two queries per call, and it names migrations) and
    /// `/healthz`. It closes idle and slow connections as the public listener does.
    public static func makeAdminApplication(
        configuration: AppConfiguration, client: PQClient, migrations: MigrationSet, logger: Logger,
        metrics: PrometheusCollectorRegistry? = nil, onServerRunning: (@Sendable (Int) async -> Void)? = nil
    ) -> some ApplicationProtocol {
        let router = Router()
        if let metrics {
            router.get("metrics") { _, _ -> Response in
                var text = [UInt8]()
                metrics.emit(into: &text)
                return Response(
                    status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                    body: .init(byteBuffer: ByteBuffer(bytes: text)))
            }
        }
        router.get("healthz") { _, _ in
            HealthResponse(status: "ok")
        }
        router.get("readyz") { _, _ -> Response in
            let migrator = Migrator(client: client, migrations: migrations, logger: logger)
            do {
                try await migrator.checkUpToDate()
                // A standby or a read-only database cannot store events: ingestion would answer 503.
                let readOnly = try await client.query(
                    "SELECT pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on'", name: "readyz.read_only")
                if try readOnly.first?.decode(Bool.self, at: 0) == true {
                    return JSONResponse.make(
                        status: .serviceUnavailable,
                        body: HealthResponse(status: "database_read_only", detail: "the database accepts no writes (a standby, or read-only)"))
                }
                return JSONResponse.make(status: .ok, body: HealthResponse(status: "ready"))
            } catch let error as MigrationError {
                return JSONResponse.make(status: .serviceUnavailable, body: HealthResponse(status: "schema_behind", detail: error.message))
            } catch {
                logger.warning("readiness check failed", metadata: ["error": "\(error)"])
                return JSONResponse.make(status: .serviceUnavailable, body: HealthResponse(status: "database_unavailable"))
            }
        }
        let server = HTTPServerBuilder.http1(
            configuration: .init(
                additionalChannelHandlers: [RequestReadDeadline(timeout: TimeAmount(configuration.httpRequestTimeout), logger: logger)],
                idleTimeout: TimeAmount(configuration.httpIdleTimeout)))
        return Application(
            router: router, server: server,
            configuration: .init(
                address: .hostname(configuration.adminHost, port: configuration.adminPort), serverName: "hubsignal-admin"),
            onServerRunning: { channel in await onServerRunning?(channel.localAddress?.port ?? configuration.adminPort) },
            logger: logger)
    }
}

/// The body of `/healthz` and `/readyz`.
struct HealthResponse: ResponseEncodable, Codable {
    var status: String
    var detail: String?
}
