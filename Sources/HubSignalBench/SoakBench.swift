import ArgumentParser
import AsyncHTTPClient
import EmbeddedPostgres
import FaultHarness
import Foundation
import HubSpotSandbox
import Logging
import OneSignalSandbox
import PQ

/// `hubsignal-bench soak`: the real `hubsignal serve` binary under a steady open-loop Segment load for minutes, with
/// faults in the background, watched for throughput, latency, memory, event log growth and the sync backlog, and
/// checked at the end with the three ledgers (what clients were told, what the log holds, what the sandboxes hold).
///
/// On demand, not in CI: it takes minutes and measures a shared machine.
struct SoakBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak",
        abstract: "Steady Segment load for N minutes on real serve processes, with background faults; ends with the three-ledger check.",
        discussion: """
            Starts a durable private PostgreSQL (or uses DATABASE_URL) with a scratch database, the HubSpot sandbox \
            (--hubspot-rate-limit per 10 s, shared by the processes) and the OneSignal sandbox (its users seeded, with a \
            push subscription each) in this process, and --processes real `hubsignal serve` processes (the executable \
            built next to this bench, or HUBSIGNAL_EXECUTABLE). It sends --rate Segment calls per second (track, \
            identify, page; about 600 bytes each) in /v1/batch requests of --batch-size, open loop (each request leaves \
            at its scheduled time, whatever the previous ones are doing), retrying each until acknowledged, spread over \
            the processes; every 50th request is sent twice (a client that lost the answer). Every \
            --notification-interval-seconds a signed (v3) HubSpot workflow action asks for a OneSignal notification, \
            retried as HubSpot does until answered 200. Every --fault-interval-seconds one fault, then its recovery: \
            kill -9 of a serve process and a restart, HubSpot and OneSignal 429 storms, 5xx, answers slower than the \
            destination timeout, connections dropped before and after applying, pg_terminate_backend of serve's \
            connections. Each --report-interval-seconds it prints one line; at the end it stops the load, waits until \
            the work has settled, compares the three ledgers, prints the memory verdict, and exits non-zero when the \
            ledgers differ.
            """)

    @Option(help: "How long the load runs, in minutes (fractions allowed).") var minutes = 10.0
    @Option(help: "Segment calls per second (open loop).") var rate = 500
    @Option(help: "Calls per /v1/batch request.") var batchSize = 10
    @Option(help: "Distinct users the calls concern.") var users = 5_000
    @Option(help: "`hubsignal serve` processes sharing the database.") var processes = 2
    @Flag(inversion: .prefixedNo, help: "Inject faults in the background.") var faults = true
    @Option(help: "Seconds between faults (the first comes after the warm-up).") var faultIntervalSeconds = 20
    @Option(
        name: .customLong("fault"),
        help: "Only this fault (repeatable): kill, 429, pg-terminate, 5xx, slow, drop-before, drop-after. Default: all, in turn.")
    var faultKinds: [SoakRun.Fault] = []
    @Option(help: "Seconds between report lines.") var reportIntervalSeconds = 10
    @Option(help: "Seconds between workflow notification actions (0: none).") var notificationIntervalSeconds = 5.0
    @Option(help: "HubSpot requests per 10 s in the sandbox; each process limits itself to its share.") var hubspotRateLimit = 190
    @Option(help: "HUBSIGNAL_DESTINATION_TIMEOUT_SECONDS for serve (the latency fault holds answers 1 s longer).")
    var destinationTimeoutSeconds = 2
    @Option(help: "HUBSIGNAL_SYNC_LEASE_SECONDS for serve: how long a hung but connected process keeps its claims (a killed one loses them at once).") var leaseSeconds = 30
    @Option(help: "How long to wait for the work to settle after the load, in seconds.") var settleTimeoutSeconds = 300
    @Option(help: "HUBSIGNAL_LOG_LEVEL for serve (its logs go to files named at the start).") var serveLogLevel = "info"
    @Flag(help: "Also print the figures as one JSON object on the last line.") var json = false
    @Option(help: "Migrations folder (default: ./migrations).") var migrations = "migrations"

    func validate() throws {
        guard minutes > 0, rate > 0, batchSize > 0, users > 0, processes > 0 else {
            throw ValidationError("--minutes, --rate, --batch-size, --users and --processes must be positive")
        }
        guard faultIntervalSeconds >= 5, reportIntervalSeconds >= 1 else {
            throw ValidationError("--fault-interval-seconds must be at least 5 and --report-interval-seconds at least 1")
        }
    }

    func run() async throws {
        let executable = ServeProcess.defaultExecutable
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw BenchError(
                """
                \(executable.path) is missing: the soak bench runs the real serve binary, built in the same configuration \
                next to this bench. Build both: `swift build -c release --product hubsignal --product hubsignal-bench` \
                (or `make soak`), or set HUBSIGNAL_EXECUTABLE.
                """)
        }
        var logger = Logger(label: "hubsignal.bench")
        logger.logLevel = .error
        let settings = SoakSettings(
            duration: .milliseconds(Int64(minutes * 60_000)), rate: rate, batchSize: batchSize, users: users, processes: processes,
            faults: faults, faultKinds: faultKinds.isEmpty ? SoakRun.Fault.allCases : faultKinds, faultInterval: .seconds(faultIntervalSeconds), reportInterval: .seconds(reportIntervalSeconds),
            notificationInterval: notificationIntervalSeconds > 0 ? .milliseconds(Int64(notificationIntervalSeconds * 1000)) : nil,
            hubSpotRateLimit: hubspotRateLimit, destinationTimeoutSeconds: destinationTimeoutSeconds, leaseSeconds: leaseSeconds,
            settleTimeout: .seconds(settleTimeoutSeconds), serveLogLevel: serveLogLevel, executable: executable,
            migrationsPath: URL(fileURLWithPath: migrations).standardizedFileURL.path)
        let options = try BenchOptions.parse(["--migrations", migrations])
        try await BenchEnvironment.with(options: options, maximumConnections: 4, logger: logger) { environment in
            let outcome = try await SoakRun.run(settings, environment: environment)
            try report(outcome.lines, figures: outcome.figures, json: json)
            if let failure = outcome.failure {
                fflush(nil)  // the figures before the error, which goes to standard error
                throw BenchError(failure)
            }
        }
    }
}

/// The soak run's settings, from the command line.
struct SoakSettings: Sendable {
    var duration: Duration
    var rate: Int
    var batchSize: Int
    var users: Int
    var processes: Int
    var faults: Bool
    var faultKinds: [SoakRun.Fault]
    var faultInterval: Duration
    var reportInterval: Duration
    var notificationInterval: Duration?
    var hubSpotRateLimit: Int
    var destinationTimeoutSeconds: Int
    var leaseSeconds: Int
    var settleTimeout: Duration
    var serveLogLevel: String
    var executable: URL
    var migrationsPath: String

    /// Memory is judged after this: caches, pools and the allocator fill up first.
    var warmUp: Duration { min(max(.seconds(30), duration / 10), duration / 3) }
}

extension SoakRun.Fault: ExpressibleByArgument {}
