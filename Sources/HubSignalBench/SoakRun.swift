import AsyncHTTPClient
import Domain
import EmbeddedPostgres
import FaultHarness
import Foundation
import HubSpotSandbox
import NIOCore
import OneSignalSandbox
import PQ
import Projections
import SandboxKit
import Synchronization

/// One soak run: the sandboxes, the serve processes, the load, the notifications, the faults and the reporter, then
/// the settling and the three-ledger check. Made by ``run(_:environment:)``.
final class SoakRun: Sendable {
    static let appID = OneSignalBench.appID
    static let apiKey = OneSignalBench.apiKey
    static let writeKey = "soak-key"
    static let hubSpotToken = "pat-na1-soak"
    static let clientSecret = "soak-secret"
    static let publicURL = "https://hubsignal.example.com"
    /// serve's `application_name`, so that the connection fault cuts serve's connections and not the bench's.
    static let applicationName = "hubsignal-soak-serve"

    /// What the command prints and returns.
    struct Outcome {
        var lines: String
        var figures: [String: Double]
        /// Why the run failed (the ledgers differ, the work did not settle), or `nil`.
        var failure: String?
    }

    let settings: SoakSettings
    let client: PQClient
    let hubSpot: HubSpotSandbox
    let oneSignal: OneSignalSandbox
    let processes: [ServeProcess]
    let http: HTTPClient
    let load: SegmentLoad
    let recorder = SoakRecorder()
    /// The processes a fault or the supervisor is stopping or restarting: the other leaves them alone.
    let claims = ProcessClaims()
    let runID: String
    let started: ContinuousClock.Instant

    private init(
        settings: SoakSettings, client: PQClient, hubSpot: HubSpotSandbox, oneSignal: OneSignalSandbox, processes: [ServeProcess],
        http: HTTPClient
    ) {
        self.settings = settings
        self.client = client
        self.hubSpot = hubSpot
        self.oneSignal = oneSignal
        self.processes = processes
        self.http = http
        self.load = SegmentLoad(writeKey: Self.writeKey, http: http)
        self.runID = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        self.started = .now
    }

    /// Starts the sandboxes and the serve processes on `environment`'s database, runs the soak, stops everything.
    static func run(_ settings: SoakSettings, environment: BenchEnvironment) async throws -> Outcome {
        let hubSpot = HubSpotSandbox(
            configuration: .init(accessToken: hubSpotToken, rateLimit: settings.hubSpotRateLimit))
        _ = try await hubSpot.start()
        var oneSignalConfiguration = OneSignalSandbox.Configuration(appID: appID, apiKey: apiKey)
        oneSignalConfiguration.requestLogLimit = 10_000  // one call per user changed: kept all, they would grow this process
        let oneSignal = OneSignalSandbox(configuration: oneSignalConfiguration)
        _ = try await oneSignal.start()
        // The users exist in OneSignal, with a push subscription, as their app's SDK made them.
        for index in 0..<settings.users {
            try oneSignal.seedUser(appID: appID, externalID: "user-\(index)", subscriptions: [.init(type: "AndroidPush", token: "token-\(index)")])
        }
        let environmentVariables: [String: String] = [
            "DATABASE_URL": environment.connectionString + " application_name=\(applicationName)",
            "HUBSIGNAL_WRITE_KEYS": writeKey, "HUBSIGNAL_MIGRATIONS_DIR": settings.migrationsPath,
            "HUBSIGNAL_LOG_LEVEL": settings.serveLogLevel, "HUBSIGNAL_PUBLIC_URL": publicURL,
            "HUBSPOT_ACCESS_TOKEN": hubSpotToken, "HUBSPOT_BASE_URL": hubSpot.baseURL, "HUBSPOT_CLIENT_SECRET": clientSecret,
            "HUBSPOT_PORTAL_ID": String(WorkflowActionRequest.portalID),
            // The processes share HubSpot's limit: each allows itself its share.
            "HUBSPOT_RATE_LIMIT": String(max(1, settings.hubSpotRateLimit / settings.processes)),
            "ONESIGNAL_APP_ID": appID, "ONESIGNAL_API_KEY": apiKey, "ONESIGNAL_BASE_URL": oneSignal.baseURL!.absoluteString,
            "HUBSIGNAL_SYNC_LEASE_SECONDS": String(settings.leaseSeconds),
            "HUBSIGNAL_DESTINATION_TIMEOUT_SECONDS": String(settings.destinationTimeoutSeconds),
        ]
        var httpConfiguration = HTTPClient.Configuration()
        httpConfiguration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        let http = HTTPClient(configuration: httpConfiguration)
        var processes: [ServeProcess] = []
        do {
            for index in 0..<settings.processes {
                processes.append(
                    try ServeProcess(
                        executable: settings.executable, port: try EmbeddedPostgres.findFreePort(),
                        environment: environmentVariables.merging(["HUBSIGNAL_WORKER_ID": "soak-p\(index)"]) { $1 }))
            }
            for process in processes { try await process.waitUntilReady(timeout: .seconds(120)) }
            print("serve: \(settings.executable.path)")
            for (index, process) in processes.enumerated() {
                print("  p\(index) pid \(process.processIdentifier) port \(process.port), log \(process.logFile.path)")
            }
            let run = SoakRun(
                settings: settings, client: environment.client, hubSpot: hubSpot, oneSignal: oneSignal, processes: processes, http: http)
            let outcome = try await run.execute()
            await hubSpot.stop()
            await oneSignal.stop()
            try? await http.shutdown()
            return outcome
        } catch {
            for process in processes { await process.kill() }
            await hubSpot.stop()
            await oneSignal.stop()
            try? await http.shutdown()
            throw error
        }
    }

    var elapsed: Double { (ContinuousClock.now - started).seconds }

    /// Prints `text` prefixed with the elapsed time.
    func say(_ text: String) {
        print("[\(format(elapsed, digits: 1).leftPadded(to: 6)) s] \(text)")
        fflush(nil)  // at once, also when standard output is a file (`… | tee soak.log`)
    }

    // MARK: - The run

    private func execute() async throws -> Outcome {
        let loadEnd = started + settings.duration
        say(
            """
            soak: \(settings.rate) calls/s in batches of \(settings.batchSize) for \(format(settings.duration.seconds / 60, digits: 1)) min, \
            \(settings.users) users, \(settings.processes) serve processes, \
            faults \(settings.faults ? "every \(settings.faultInterval) (\(settings.faultKinds.map(\.rawValue).joined(separator: ", ")))" : "off"), \
            HubSpot limit \(settings.hubSpotRateLimit) / 10 s (\(max(1, settings.hubSpotRateLimit / settings.processes)) per process), \
            warm-up \(settings.warmUp)
            """)
        let reporter = Task { await self.report() }
        async let faults: Void = self.injectFaults(until: loadEnd)
        async let notifications: Void = self.sendNotifications(until: loadEnd)
        async let supervision: Void = self.supervise(until: loadEnd)
        await self.sendLoad(until: loadEnd)
        let loadSeconds = (ContinuousClock.now - started).seconds
        await notifications
        await faults
        await supervision
        reporter.cancel()
        var reportState = await reporter.value
        await printLine(&reportState, memory: sampleMemory())

        // Every process up again, no fault left pending, then wait for the work to settle.
        hubSpot.faults.clear()
        oneSignal.faults.clear()
        for (index, process) in processes.enumerated() where !process.isRunning {
            say("p\(index) is down after the load: restarting it")
            try process.restart()
            try await process.waitUntilReady()
        }
        say("load stopped; waiting for the work to settle (at most \(settings.settleTimeout))…")
        let settleStart = ContinuousClock.now
        let settled = try await LedgerCheck.waitUntilSettled(client: client, timeout: settings.settleTimeout, interval: .milliseconds(500))
        let settleSeconds = (ContinuousClock.now - settleStart).seconds
        say(settled ? "settled after \(format(settleSeconds, digits: 1)) s" : "NOT settled after \(format(settleSeconds, digits: 1)) s")
        let snapshot = recorder.snapshot
        let ledgers = try await LedgerCheck.compare(
            client: client, acknowledged: load.ledger.acknowledged, hubSpot: hubSpot, oneSignal: oneSignal,
            oneSignalApps: ["default": Self.appID])
        let notificationsInLog = try await client.query(
            """
            SELECT count(DISTINCT idempotency_key) FROM events
            WHERE type = \(EventType.sendNotification.rawValue) AND idempotency_key = ANY(\(snapshot.notificationsAcknowledged)::text[])
            """)[0].decode(Int64.self, at: 0)
        let database = try await databaseFigures()
        var exitStatuses: [Int32] = []
        for process in processes { exitStatuses.append(await process.terminate()) }

        return summarize(
            snapshot: snapshot, ledgers: ledgers, settled: settled, settleSeconds: settleSeconds, loadSeconds: loadSeconds,
            notificationsInLog: Int(notificationsInLog), database: database, exitStatuses: exitStatuses)
    }

    // MARK: - Load

    /// Sends the Segment calls open loop until `end`: request n leaves at `started + n × period` whatever the others
    /// are doing, and its latency counts from that time (so a stall shows as latency, not as a slower schedule).
    private func sendLoad(until end: ContinuousClock.Instant) async {
        let period = Duration.seconds(Double(settings.batchSize) / Double(settings.rate))
        var traffic = SoakTraffic(users: settings.users, runID: runID)
        await withDiscardingTaskGroup { group in
            var scheduled = started
            var index = 0
            while scheduled < end {
                try? await Task.sleep(until: scheduled, clock: .continuous)
                let calls = traffic.batch(settings.batchSize)
                let ports = rotatedPorts(index)
                let intended = scheduled
                let resend = index % 50 == 49
                let load = self.load
                let recorder = self.recorder
                recorder.batchStarted()
                group.addTask {
                    let acknowledged = await load.send(calls, ports: ports)
                    recorder.batchFinished(events: calls.count, latency: ContinuousClock.now - intended, acknowledged: acknowledged)
                    if resend {
                        // A client that lost the answer sends the same calls again.
                        recorder.batchResent()
                        await load.send(calls, ports: ports)
                    }
                }
                index += 1
                scheduled += period
            }
        }
    }

    /// The live processes' ports, starting at a different one for each request, so that the load is spread.
    private func rotatedPorts(_ index: Int) -> @Sendable () -> [Int] {
        let processes = self.processes
        return {
            let alive = processes.filter(\.isRunning).map(\.port)
            guard !alive.isEmpty else { return [] }
            let first = index % alive.count
            return Array(alive[first...] + alive[..<first])
        }
    }

    // MARK: - Workflow notifications

    /// A signed "send notification" workflow action every `notificationInterval`, each retried (as HubSpot retries)
    /// until answered 200.
    private func sendNotifications(until end: ContinuousClock.Instant) async {
        guard let interval = settings.notificationInterval else { return }
        await withDiscardingTaskGroup { group in
            var scheduled = started + interval
            var index = 0
            var random = SplitMix64(seed: 99)
            while scheduled < end {
                try? await Task.sleep(until: scheduled, clock: .continuous)
                let callbackID = "soak-\(runID)-n\(index)"
                let user = Int(random.next() % UInt64(settings.users))
                let ports = rotatedPorts(index)
                let intended = scheduled
                let objectID = 100_000 + index
                group.addTask {
                    let acknowledged = await self.sendNotificationAction(
                        callbackID: callbackID, objectID: objectID, externalID: "user-\(user)", ports: ports)
                    self.recorder.notificationFinished(callbackID: callbackID, latency: ContinuousClock.now - intended, acknowledged: acknowledged)
                }
                index += 1
                scheduled += interval
            }
        }
    }

    private func sendNotificationAction(callbackID: String, objectID: Int, externalID: String, ports: @Sendable () -> [Int]) async -> Bool {
        let action = WorkflowActionRequest(callbackID: callbackID, objectID: objectID, externalID: externalID)
        let deadline = ContinuousClock.now + .seconds(120)
        var attempt = 0
        while ContinuousClock.now < deadline {
            let candidates = ports()
            if !candidates.isEmpty {
                let port = candidates[attempt % candidates.count]
                attempt += 1
                var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(WorkflowActionRequest.path)")
                request.method = .POST
                // Each attempt signed afresh, as HubSpot does.
                for header in action.signatureHeaders(clientSecret: Self.clientSecret, publicURL: Self.publicURL) {
                    request.headers.add(name: header.name, value: header.value)
                }
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(ByteBuffer(string: action.body))
                if let response = try? await http.execute(request, timeout: .seconds(10)) {
                    _ = try? await response.body.collect(upTo: 1 << 20)
                    if response.status.code == 200 { return true }
                }
            }
            try? await Task.sleep(for: .milliseconds(min(100 * max(attempt, 1), 1_000)))
        }
        return false
    }

    // MARK: - Supervision

    /// Restarts a process that ended without a fault (what a supervisor such as systemd does), and records it: the
    /// soak must hold up when something else stops a process, and say so.
    private func supervise(until end: ContinuousClock.Instant) async {
        while ContinuousClock.now < end {
            try? await Task.sleep(for: .milliseconds(500))
            for (index, process) in processes.enumerated() where !process.isRunning && claims.claim(index) {
                defer { claims.release(index) }
                guard !process.isRunning else { continue }
                let how = process.exitDescription ?? "?"
                say("p\(index) ended without a fault (\(how)); restarting it")
                recorder.recordUnplannedExit(String(format: "%.1f s: ", elapsed) + "p\(index) \(how)")
                do {
                    try process.restart()
                    try await process.waitUntilReady(timeout: .seconds(120))
                    say("  p\(index) restarted (pid \(process.processIdentifier))")
                } catch {
                    say("  p\(index) could not be restarted: \(error)")
                }
            }
        }
    }

    // MARK: - Faults

    /// The faults, in the order they come round (`--fault NAME` picks some).
    enum Fault: String, CaseIterable, Sendable {
        case kill, rateLimitStorm = "429", connectionsTerminated = "pg-terminate", serverErrors = "5xx", slowerThanTimeout = "slow",
            droppedBeforeApplying = "drop-before", droppedAfterApplying = "drop-after"

        var summary: String {
            switch self {
            case .kill: "kill -9 of a serve process, restart 3 s later"
            case .rateLimitStorm: "HubSpot and OneSignal 429 storm (8 each, Retry-After 1)"
            case .connectionsTerminated: "pg_terminate_backend of serve's connections (3 times, 300 ms apart)"
            case .serverErrors: "HubSpot 502 and OneSignal 500 (4 each)"
            case .slowerThanTimeout: "HubSpot and OneSignal answer 1 s after the destination timeout (2 each, applied then)"
            case .droppedBeforeApplying: "HubSpot and OneSignal drop the connection before applying (3 each)"
            case .droppedAfterApplying: "HubSpot and OneSignal drop the connection after applying (3 each)"
            }
        }
    }

    /// One fault every `faultInterval` after the warm-up, each followed by its recovery, until `end`.
    private func injectFaults(until end: ContinuousClock.Instant) async {
        guard settings.faults, !settings.faultKinds.isEmpty else { return }
        var scheduled = started + settings.warmUp
        var number = 0
        var kills = 0
        while scheduled + .seconds(5) < end {
            try? await Task.sleep(until: scheduled, clock: .continuous)
            let fault = settings.faultKinds[number % settings.faultKinds.count]
            number += 1
            say("fault \(number): \(fault.summary)")
            recorder.recordFault(String(format: "%.1f s: ", elapsed) + fault.rawValue)
            do {
                switch fault {
                case .kill:
                    // With several processes p0 is never killed: its memory over the whole run is the verdict's witness.
                    let target = processes.count == 1 ? 0 : 1 + kills % (processes.count - 1)
                    kills += 1
                    guard claims.claim(target) else {
                        say("  p\(target) is being restarted by the supervisor: no kill this time")
                        break
                    }
                    defer { claims.release(target) }
                    let process = processes[target]
                    await process.kill()
                    say("  p\(target) killed (SIGKILL); \(recorder.inFlight) requests in flight")
                    try await Task.sleep(for: .seconds(3))
                    try process.restart()
                    let restarting = ContinuousClock.now
                    try await process.waitUntilReady(timeout: .seconds(120))
                    say("  p\(target) restarted (pid \(process.processIdentifier)), ready after \(format((ContinuousClock.now - restarting).seconds, digits: 1)) s")
                case .connectionsTerminated:
                    var terminated: [Int64] = []
                    for _ in 0..<3 {
                        terminated.append(
                            try await client.query(
                                """
                                SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                                WHERE datname = current_database() AND application_name = \(Self.applicationName)
                                """)[0].decode(Int64.self, at: 0))
                        try await Task.sleep(for: .milliseconds(300))
                    }
                    say("  connections terminated: \(terminated.map(String.init).joined(separator: ", "))")
                default:
                    inject(fault)
                    // Recovery: the faults fire as the syncs call; whatever has not fired before the next fault is cleared.
                    let deadline = min(ContinuousClock.now + settings.faultInterval * 0.8, end)
                    while ContinuousClock.now < deadline, hubSpot.faults.pendingCount + oneSignal.faults.pendingCount > 0 {
                        try await Task.sleep(for: .milliseconds(200))
                    }
                    let left = (hubSpot: hubSpot.faults.pendingCount, oneSignal: oneSignal.faults.pendingCount)
                    hubSpot.faults.clear()
                    oneSignal.faults.clear()
                    say(left.hubSpot + left.oneSignal == 0
                        ? "  every injected fault fired"
                        : "  not fired before the next fault (cleared): HubSpot \(left.hubSpot), OneSignal \(left.oneSignal)")
                }
            } catch {
                say("  the fault could not be carried out: \(error)")
            }
            scheduled += settings.faultInterval
        }
    }

    private func inject(_ fault: Fault) {
        let hubSpotPaths = ["/crm/v3/objects/contacts/batch/upsert"]
        let oneSignalPaths = ["/apps/", "/notifications"]
        let injections: (SandboxFault, Int, SandboxFault, Int)
        switch fault {
        case .rateLimitStorm:
            let hubSpot429 = Data(
                #"{"status":"error","message":"You have reached your ten_secondly_rolling limit.","errorType":"RATE_LIMIT","correlationId":"c0ffee00-0000-4000-8000-000000000000","policyName":"TEN_SECONDLY_ROLLING","groupName":"publicapi"}"#.utf8)
            injections = (
                .status(429, body: hubSpot429, headers: [("Retry-After", "1")]), 8,
                .status(429, body: Data(#"{"errors":["API rate limit exceeded"]}"#.utf8), headers: [("Retry-After", "1")]), 8
            )
        case .serverErrors: injections = (.status(502), 4, .status(500), 4)
        case .slowerThanTimeout:
            let late = SandboxFault.latency(.seconds(settings.destinationTimeoutSeconds + 1))
            injections = (late, 2, late, 2)
        case .droppedBeforeApplying: injections = (.dropConnection(afterHandling: false), 3, .dropConnection(afterHandling: false), 3)
        case .droppedAfterApplying: injections = (.dropConnection(afterHandling: true), 3, .dropConnection(afterHandling: true), 3)
        case .kill, .connectionsTerminated: return
        }
        for path in hubSpotPaths { hubSpot.faults.inject(injections.0, times: injections.1, pathPrefix: path) }
        for path in oneSignalPaths { oneSignal.faults.inject(injections.2, times: injections.3, pathPrefix: path) }
    }

    // MARK: - Reporting

    /// The event log and the syncs as the database sees them.
    struct DatabaseFigures {
        var eventsBytes: Int64
        var events: Int64
        var pending: Int64
        var failed: Int64
        var projectionLag: Int64
    }

    private func databaseFigures() async throws -> DatabaseFigures {
        let row = try await client.query(
            """
            SELECT pg_total_relation_size('events'), (SELECT count(*) FROM events),
                   (SELECT count(*) FROM sync_status WHERE state = 'pending'),
                   (SELECT count(*) FROM sync_status WHERE state = 'failed'),
                   (SELECT count(*) FROM events e
                    WHERE (e.transaction_id, e.position) > (
                        COALESCE((SELECT transaction_id FROM subscription_checkpoints WHERE name = \(PeopleProjection.name)), '0'::xid8),
                        COALESCE((SELECT position FROM subscription_checkpoints WHERE name = \(PeopleProjection.name)), 0)))
            """)[0].decode((Int64, Int64, Int64, Int64, Int64).self)
        return DatabaseFigures(eventsBytes: row.0, events: row.1, pending: row.2, failed: row.3, projectionLag: row.4)
    }

    /// Where the report lines are.
    struct ReportState: Sendable {
        var lastLine: ContinuousClock.Instant
        var lastEvents: Int64 = 0
        var lastRetries = 0
    }

    /// Samples the processes' memory every second and prints a line every `reportInterval`, until cancelled; returns
    /// its state for the last line.
    private func report() async -> ReportState {
        var state = ReportState(lastLine: started)
        while true {
            try? await Task.sleep(for: .seconds(1))
            // A statement running when the task is cancelled is cancelled too: the last line is printed by the caller.
            if Task.isCancelled { return state }
            let memory = sampleMemory()
            guard ContinuousClock.now - state.lastLine >= settings.reportInterval else { continue }
            await printLine(&state, memory: memory)
        }
    }

    /// Records each process's resident memory; returns it as text for a report line.
    private func sampleMemory() -> [String] {
        processes.enumerated().map { index, process in
            guard process.isRunning, let bytes = process.residentMemoryBytes else { return "p\(index) down" }
            recorder.record(.init(elapsed: elapsed, process: index, pid: process.processIdentifier, bytes: bytes))
            return "p\(index) \(format(Double(bytes) / 1_048_576, digits: 1))"
        }
    }

    /// One report line: the interval's acknowledgements and latency, memory, the log's growth and the backlog.
    private func printLine(_ state: inout ReportState, memory: [String]) async {
        let now = ContinuousClock.now
        let seconds = (now - state.lastLine).seconds
        state.lastLine = now
        let interval = recorder.takeInterval()
        let retries = load.ledger.failures
        var database = "database: ?"
        if let figures = try? await databaseFigures() {
            database =
                "log \(figures.events) rows (+\(figures.events - state.lastEvents)) \(format(Double(figures.eventsBytes) / 1_048_576, digits: 1)) MB"
                + " | pending \(figures.pending) failed \(figures.failed) lag \(figures.projectionLag)"
            state.lastEvents = figures.events
        }
        say(
            "\(format(Double(interval.events) / seconds).leftPadded(to: 5)) ev/s acked  p50 \(format(percentile(interval.latencies, 0.5), digits: 1)) ms"
                + "  p99 \(format(percentile(interval.latencies, 0.99), digits: 1)) ms  retried \(retries - state.lastRetries)"
                + " | RSS MB \(memory.joined(separator: ", ")) | \(database)")
        state.lastRetries = retries
    }

    // MARK: - Summary

    /// The memory verdict of process `index`: the mean RSS of the first and the last third of its last run after the
    /// warm-up (a restart starts a new run).
    func memoryTrend(of index: Int, samples: [SoakRecorder.MemorySample]) -> (start: Double, end: Double, span: Double)? {
        let own = samples.filter { $0.process == index }
        guard let pid = own.last?.pid, let firstOfRun = own.first(where: { $0.pid == pid }) else { return nil }
        let run = own.filter { $0.pid == pid && $0.elapsed >= firstOfRun.elapsed + settings.warmUp.seconds }
        guard let first = run.first, let last = run.last, run.count >= 6 else { return nil }
        let span = last.elapsed - first.elapsed
        let head = run.filter { $0.elapsed <= first.elapsed + span / 3 }
        let tail = run.filter { $0.elapsed >= last.elapsed - span / 3 }
        func mean(_ values: [SoakRecorder.MemorySample]) -> Double { Double(values.map(\.bytes).reduce(0, +)) / Double(values.count) / 1_048_576 }
        return (mean(head), mean(tail), span)
    }

    private func summarize(
        snapshot: SoakRecorder.State, ledgers: LedgerReport, settled: Bool, settleSeconds: Double, loadSeconds: Double,
        notificationsInLog: Int, database: DatabaseFigures, exitStatuses: [Int32]
    ) -> Outcome {
        let eventsPerSecond = Double(snapshot.acknowledgedEvents) / loadSeconds
        let p50 = percentile(snapshot.latencies, 0.5)
        let p99 = percentile(snapshot.latencies, 0.99)
        let maximum = snapshot.latencies.max() ?? 0
        var memoryLines: [String] = []
        var witness: (start: Double, end: Double, span: Double)?
        for index in processes.indices {
            guard let trend = memoryTrend(of: index, samples: snapshot.memory), trend.span >= 120 else {
                memoryLines.append("p\(index): after the warm-up, its run since its last start is too short for a verdict (2 minutes at least)")
                continue
            }
            if index == 0 { witness = trend }
            let growth = (trend.end / trend.start - 1) * 100
            memoryLines.append(
                "p\(index): \(format(trend.start, digits: 1)) MB (first third) → \(format(trend.end, digits: 1)) MB (last third) over "
                    + "\(format(trend.span, digits: 0)) s: \(growth >= 0 ? "+" : "")\(format(growth, digits: 1)) %"
                    + (abs(growth) <= 10 ? " (flat)" : " (NOT flat: more than 10 %)"))
        }
        let upserts = hubSpot.requests.matching(pathPrefix: "/crm/v3/objects/contacts/batch/upsert").count
        let growth = witness.map { ($0.end / $0.start - 1) * 100 } ?? 0
        let notificationsAcknowledged = snapshot.notificationsAcknowledged.count
        var problems: [String] = []
        if !settled { problems.append("the work did not settle within \(settings.settleTimeout)") }
        if !ledgers.isClean { problems.append("the ledgers differ") }
        if snapshot.unacknowledgedBatches > 0 { problems.append("\(snapshot.unacknowledgedBatches) requests were never acknowledged") }
        if notificationsInLog != notificationsAcknowledged {
            problems.append("\(notificationsAcknowledged - notificationsInLog) acknowledged workflow actions are missing from the log")
        }
        let lines = """

            soak       \(snapshot.acknowledgedEvents) calls acknowledged in \(format(loadSeconds, digits: 0)) s: \
            \(format(eventsPerSecond, digits: 1)) events/s (target rate \(settings.rate)); latency from the scheduled send to the \
            acknowledgement p50 \(format(p50, digits: 1)) ms, p99 \(format(p99, digits: 1)) ms, max \(format(maximum, digits: 0)) ms
                       requests retried \(load.ledger.failures) of \(load.ledger.attempts) sent; sent twice on purpose \(snapshot.resentBatches); \
            never acknowledged \(snapshot.unacknowledgedBatches); most in flight \(snapshot.maxInFlight)
                       workflow notifications acknowledged \(notificationsAcknowledged) (\(notificationsInLog) in the log), \
            not acknowledged \(snapshot.notificationsUnacknowledged)
            exits      unplanned (no fault; restarted by the bench): \(snapshot.unplannedExits.isEmpty ? "none" : snapshot.unplannedExits.joined(separator: "; "))
            faults     \(snapshot.faults.count)\(snapshot.faults.isEmpty ? "" : ": " + snapshot.faults.joined(separator: "; "))
            event log  \(database.events) rows, \(format(Double(database.eventsBytes) / 1_048_576, digits: 1)) MB with indexes \
            (\(format(Double(database.eventsBytes) / Double(max(database.events, 1)), digits: 0)) bytes per event)
            HubSpot    \(hubSpot.requests.count) requests (\(upserts) contact batch upserts), 429s from its limit: \(hubSpot.rateLimitedResponses)
            memory     RSS of each serve process, after a \(settings.warmUp) warm-up:
                       \(memoryLines.joined(separator: "\n           "))
            settle     \(settled ? "settled" : "NOT settled") \(format(settleSeconds, digits: 1)) s after the load stopped; \
            serve exit statuses \(exitStatuses.map(String.init).joined(separator: ", "))
            ledgers    \(ledgers.description.replacingOccurrences(of: "\n", with: "\n           "))
            verdict    \(problems.isEmpty ? "clean: no loss, no duplicates, destinations equal to the read models" : problems.joined(separator: "; "))
            """
        let figures: [String: Double] = [
            "events_per_s": (eventsPerSecond * 10).rounded() / 10, "p50_ms": (p50 * 10).rounded() / 10, "p99_ms": (p99 * 10).rounded() / 10,
            "max_ms": maximum.rounded(),
            "rss_start_mb": ((witness?.start ?? 0) * 10).rounded() / 10, "rss_end_mb": ((witness?.end ?? 0) * 10).rounded() / 10,
            "rss_growth_pct": (growth * 10).rounded() / 10,
            "events_table_mb": (Double(database.eventsBytes) / 1_048_576 * 10).rounded() / 10, "events_rows": Double(database.events),
            "acknowledged": Double(snapshot.acknowledgedEvents), "retried_requests": Double(load.ledger.failures),
            "faults": Double(snapshot.faults.count), "missing": Double(ledgers.missingFromLog.count),
            "duplicates": Double(ledgers.duplicatedInLog.count), "hubspot_differing": Double(ledgers.hubSpotDiffering.count),
            "onesignal_differing": Double(ledgers.oneSignalDiffering.count), "unsettled": Double(ledgers.unsettled.count),
            "notifications": Double(notificationsAcknowledged), "notifications_sent": Double(ledgers.notificationsSent),
            "notifications_duplicated": Double(ledgers.notificationsDuplicated.count), "settled": settled ? 1 : 0,
            "settle_s": (settleSeconds * 10).rounded() / 10, "unplanned_exits": Double(snapshot.unplannedExits.count),
        ]
        return Outcome(lines: lines, figures: figures, failure: problems.isEmpty ? nil : problems.joined(separator: "; "))
    }
}

extension String {
    /// The string with spaces before it up to `width` characters.
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}

/// Which serve processes are being stopped or restarted, and by whom it does not matter: one at a time.
final class ProcessClaims: Sendable {
    private let claimed = Mutex<Set<Int>>([])

    /// Claims process `index`; `false` when it is claimed already.
    func claim(_ index: Int) -> Bool { claimed.withLock { $0.insert(index).inserted } }

    func release(_ index: Int) { _ = claimed.withLock { $0.remove(index) } }
}
