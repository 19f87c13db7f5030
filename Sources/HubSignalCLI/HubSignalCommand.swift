import App
import ArgumentParser
import EmbeddedPostgres
import EventStore
import Foundation
import HubSpotSandbox
import OneSignalSandbox
import Logging
import Mapping
import Metrics
import Migrations
import PQ
import Projections
import Prometheus

@main
struct HubSignalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hubsignal",
        abstract: "HubSignal: an event-sourced sync service between Segment-style events, HubSpot and OneSignal.",
        subcommands: [
            Serve.self, Dev.self, Migrate.self, Rebuild.self, Status.self, Retry.self, ReplayCommand.self, Events.self,
            EraseCommand.self, ConfigCommand.self, Sandbox.self, HubSpotCommand.self, RetentionCommand.self, ArchiveCommand.self,
        ])
}

/// Options every command shares.
struct GlobalOptions: ParsableArguments {
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical (default: HUBSIGNAL_LOG_LEVEL or \(defaults.logLevel)).")
    var logLevel: String?
}

/// The registry behind `/metrics`; `MetricsSystem` is bootstrapped with it once, in `prepare`.
let metricsRegistry = PrometheusCollectorRegistry()

/// Reads the environment, applies flags, and sets up logging and metrics once.
func prepare(_ options: GlobalOptions, requireDatabase: Bool) throws -> (AppConfiguration, Logger) {
    var configuration = try AppConfiguration.fromEnvironment(requireDatabase: requireDatabase)
    if let level = options.logLevel {
        guard let value = Logger.Level(rawValue: level.lowercased()) else {
            throw ValidationError("--log-level \(level) is not one of trace, debug, info, notice, warning, error, critical")
        }
        configuration.logLevel = value
    }
    let format = configuration.logFormat
    let level = configuration.logLevel
    LoggingSystem.bootstrap { label in
        var handler: any LogHandler =
            format == .json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
        handler.logLevel = level
        return handler
    }
    MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: metricsRegistry))
    return (configuration, Logger(label: "hubsignal"))
}

/// Prints an error the way an operator needs it (full detail, on the terminal) and exits non-zero.
func fail(_ error: any Error) -> ExitCode {
    let text: String
    if let error = error as? PQError {
        text = error.debugDescription
    } else {
        text = "\(error)"
    }
    FileHandle.standardError.write(Data(("hubsignal: " + text + "\n").utf8))
    return ExitCode.failure
}

/// The environment variables `serve`, `dev` and the other service commands read, for `--help`.
let environmentHelp = EnvironmentVariable.serviceHelp

/// The configuration in force when no variable is set: the defaults the flags' help names.
let defaults = AppConfiguration(databaseURL: "")

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the service against DATABASE_URL (refuses to start if the schema is behind: run `hubsignal migrate`).",
        discussion: environmentHelp)

    @OptionGroup var options: GlobalOptions
    @Option(help: "Address to listen on (default: HUBSIGNAL_HOST or \(defaults.host)).") var host: String?
    @Option(help: "Port to listen on (default: HUBSIGNAL_PORT or \(defaults.port)).") var port: Int?

    func run() async throws {
        var (configuration, logger) = try prepare(options, requireDatabase: true)
        if let host { configuration.host = host }
        if let port { configuration.port = port }
        do {
            try await HubSignalService.serve(configuration, logger: logger, metrics: metricsRegistry)
        } catch {
            throw fail(error)
        }
    }
}

struct Rebuild: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rebuild the read models from the whole event log with the current mapping (HUBSIGNAL_MAPPING).",
        discussion: """
            The log is replayed into shadow tables (schema hubsignal_rebuild) while the live tables keep answering and \
            `serve` keeps projecting; then, in one short transaction, the new tables replace the old ones. Contact ids and \
            everything learned from HubSpot and OneSignal (ids, results) come back from the log. Views defined on the read \
            models are dropped with the old tables: create them again afterwards.
            """ + "\n\n" + environmentHelp)

    @OptionGroup var options: GlobalOptions
    @Option(help: "The projection to rebuild (default: all; there is one, 'people').") var projection: String?

    func run() async throws {
        let (configuration, logger) = try prepare(options, requireDatabase: true)
        if let projection, projection != PeopleProjection.name {
            throw fail(ProjectionError("there is no projection '\(projection)'; the projections are: \(PeopleProjection.name)"))
        }
        let client = HubSignalService.makeClient(configuration, logger: logger)
        do {
            let mapping = try HubSignalService.loadMapping(configuration, logger: logger)
            let migrator = Migrator(client: client, migrations: try HubSignalService.loadMigrations(configuration), logger: logger)
            try await migrator.checkUpToDate()
            let store = EventStore(client: client, logger: logger)
            let bar = ProgressBar(enabled: isatty(STDOUT_FILENO) == 1)
            let started = ContinuousClock.now
            let events = try await ProjectionRebuild(store: store, mapping: mapping, logger: logger).run { progress in
                bar.show(progress)
            }
            bar.finish()
            let seconds = Double((ContinuousClock.now - started).components.seconds)
                + Double((ContinuousClock.now - started).components.attoseconds) / 1e18
            print(
                "rebuilt '\(PeopleProjection.name)' from \(events) events in \(String(format: "%.1f", seconds)) s "
                    + "(version \(PeopleProjection.version(mapping: mapping)))")
            await client.shutdown()
        } catch {
            await client.shutdown()
            throw fail(error)
        }
    }
}

/// A one-line progress bar on a terminal (nothing otherwise: the log lines report progress there).
final class ProgressBar: Sendable {
    let enabled: Bool
    init(enabled: Bool) { self.enabled = enabled }

    func show(_ progress: ProjectionRebuild.Progress) {
        guard enabled else { return }
        let total = max(progress.headPosition, 1)
        let fraction = min(1, Double(progress.position) / Double(total))
        let width = 30
        let filled = Int(fraction * Double(width))
        let label = progress.isSwapping ? "swapping in" : "\(progress.events) events"
        let line = "\r[" + String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled) + "] "
            + String(format: "%3.0f%% ", fraction * 100) + label
        FileHandle.standardOutput.write(Data(line.utf8))
    }

    func finish() {
        if enabled { FileHandle.standardOutput.write(Data("\n".utf8)) }
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply pending migrations to DATABASE_URL (safe to run from several processes at once).")

    @OptionGroup var options: GlobalOptions
    @Flag(help: "Only show which migrations are applied and pending.") var status = false

    func run() async throws {
        let (configuration, logger) = try prepare(options, requireDatabase: true)
        let client = HubSignalService.makeClient(configuration, logger: logger)
        do {
            let migrator = Migrator(
                client: client, migrations: try HubSignalService.loadMigrations(configuration), logger: logger,
                options: MigrationOptions(eventPartitionSize: configuration.eventPartitionSize))
            if status {
                let current = try await migrator.status()
                for applied in current.applied {
                    print(String(format: "applied  %04d_%@  %@", applied.version, applied.name, "\(applied.appliedAt)"))
                }
                for pending in current.pending { print("pending  \(pending.fileName)") }
                for modified in current.modified { print("MODIFIED \(modified.fileName) (edited after it was applied)") }
                for unknown in current.unknown { print(String(format: "unknown  %04d_%@ (from a newer build)", unknown.version, unknown.name)) }
            } else {
                let applied = try await migrator.migrate()
                print(applied.isEmpty ? "the database is up to date" : "applied \(applied.map(\.fileName).joined(separator: ", "))")
            }
            await client.shutdown()
        } catch {
            await client.shutdown()
            throw fail(error)
        }
    }
}

struct Dev: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the service on a private PostgreSQL it starts itself (in ./.hubsignal/pg), migrated. Ctrl-C stops all of it.",
        discussion: environmentHelp)

    @OptionGroup var options: GlobalOptions
    @Option(help: "Where the private PostgreSQL keeps its data (reused on the next start).") var dataDirectory = ".hubsignal/pg"
    @Option(help: "Address to listen on (default: HUBSIGNAL_HOST or \(defaults.host)).") var host: String?
    @Option(help: "Port to listen on (default: HUBSIGNAL_PORT or \(defaults.port)).") var port: Int?
    @Flag(help: "Do not post the small demo data set (two people, a company, an order) to the service.") var noDemoData = false

    func run() async throws {
        var (configuration, logger) = try prepare(options, requireDatabase: false)
        if let host { configuration.host = host }
        if let port { configuration.port = port }
        let postgres: EmbeddedPostgres?
        if configuration.databaseURL.isEmpty {
            do {
                try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
                postgres = try await EmbeddedPostgres.start(.init(dataDirectory: dataDirectory), logger: logger)
            } catch {
                throw fail(error)
            }
            configuration.databaseURL = postgres!.connectionString
        } else {
            postgres = nil
        }
        // Without HubSpot credentials, the HubSpot sandbox stands in for HubSpot, and a demo write key is accepted.
        var sandbox: HubSpotSandbox?
        if configuration.hubSpotAccessToken == nil {
            let token = "pat-dev-sandbox"
            let started = HubSpotSandbox(configuration: .init(accessToken: token))
            do {
                try await started.start()
            } catch {
                await postgres?.stop()
                throw fail(error)
            }
            configuration.hubSpotAccessToken = token
            configuration.hubSpotBaseURL = started.baseURL
            configuration.hubSpotPortalID = configuration.hubSpotPortalID ?? String(started.configuration.portalID)
            sandbox = started
        }
        // Likewise the OneSignal sandbox for OneSignal, with a demo app, key and event-stream secret.
        var oneSignal: OneSignalSandbox?
        if configuration.oneSignalApps.isEmpty {
            let app = OneSignalSandbox.Configuration.App(id: Self.oneSignalAppID, apiKey: "os_v2_app_dev_sandbox", name: "HubSignal dev")
            let started = OneSignalSandbox(configuration: .init(apps: [app]))
            do {
                _ = try await started.start()
            } catch {
                await sandbox?.stop()
                await postgres?.stop()
                throw fail(error)
            }
            configuration.oneSignalAppID = app.id
            configuration.oneSignalAPIKey = app.apiKey
            configuration.oneSignalBaseURL = started.baseURL?.absoluteString ?? configuration.oneSignalBaseURL
            configuration.oneSignalWebhookSecret = configuration.oneSignalWebhookSecret ?? "dev-onesignal-secret"
            oneSignal = started
        }
        if configuration.writeKeys.isEmpty { configuration.writeKeys = ["dev-write-key"] }
        do {
            let client = HubSignalService.makeClient(configuration, logger: logger)
            let migrations = try HubSignalService.loadMigrations(configuration)
            try await Migrator(
                client: client, migrations: migrations, logger: logger,
                options: MigrationOptions(eventPartitionSize: configuration.eventPartitionSize)).migrate()
            await client.shutdown()
            let databaseURL = configuration.databaseURL
            let host = configuration.host
            let (adminHost, adminPort) = (configuration.adminHost, configuration.adminPort)
            let writeKey = configuration.writeKeys[0]
            let hubSpot = sandbox.map { "\($0.baseURL)   (sandbox; token \($0.configuration.accessToken))" } ?? configuration.hubSpotBaseURL
            let hubSpotCheck = sandbox.map {
                "curl -s -H 'Authorization: Bearer \($0.configuration.accessToken)' '\($0.baseURL)/crm/v3/objects/contacts/ada@example.com?idProperty=email'"
            }
            let oneSignalURL = configuration.oneSignalBaseURL
            let oneSignalApp = configuration.oneSignalAppID ?? ""
            let oneSignalLine = oneSignal.map { _ in "\(oneSignalURL)   (sandbox; app \(oneSignalApp), key os_v2_app_dev_sandbox)" } ?? oneSignalURL
            let oneSignalCheck = oneSignal.map { _ in
                "curl -s -H 'Authorization: Key os_v2_app_dev_sandbox' '\(oneSignalURL)/apps/\(oneSignalApp)/users/by/external_id/ada'"
            }
            let postsDemoData = !noDemoData
            let demoLogger = logger
            try await HubSignalService.serve(configuration, logger: logger, metrics: metricsRegistry) { port in
                if postsDemoData {
                    Task { await DemoData.post(port: port, writeKey: writeKey, logger: demoLogger) }
                }
                // Written unbuffered, so it shows up at once even when standard output is a file or a pipe.
                FileHandle.standardOutput.write(Data(
                    """

                    HubSignal is running (Ctrl-C stops it, its PostgreSQL and the sandboxes).
                      HTTP:        http://\(host):\(port)   (write key: \(writeKey))
                      Operations:  http://\(adminHost):\(adminPort)/metrics, /readyz   (the admin listener)
                      PostgreSQL:  \(databaseURL)   (try: psql '\(databaseURL)' -c 'SELECT * FROM events')
                      HubSpot:     \(hubSpot)
                      OneSignal:   \(oneSignalLine)
                    Try:
                      curl -s -u \(writeKey): http://\(host):\(port)/v1/identify -H 'Content-Type: application/json' \\
                        -d '{"userId":"ada","traits":{"email":"ada@example.com","firstName":"Ada"}}'
                      psql '\(databaseURL)' -c "SELECT contact_id, email, state FROM sync_status JOIN contacts USING (contact_id)"
                    \(hubSpotCheck.map { "  " + $0 + "\n" } ?? "")\(oneSignalCheck.map { "  " + $0 + "\n" } ?? "")
                    """.utf8))
            }
        } catch {
            await sandbox?.stop()
            await oneSignal?.stop()
            await postgres?.stop()
            throw fail(error)
        }
        await sandbox?.stop()
        await oneSignal?.stop()
        await postgres?.stop()
    }

    /// The OneSignal sandbox's app in `dev`.
    static let oneSignalAppID = "5eb5a37e-b458-11e3-ac11-000c2940e62c"
}
