import EmbeddedPostgres
import FaultHarness
import Foundation
import HubSpotSandbox
import OneSignalSandbox
import PQ
import Synchronization
import Testing
import TestSupport

/// One fault-test run: the HubSpot and OneSignal sandboxes, real `hubsignal serve` processes against one database,
/// and a Segment client that retries as SDKs do. After the fault, ``settleAndCheck()`` waits for the work to finish
/// and compares the three ledgers: what clients were told, what the log holds, and what the sandboxes hold.
final class FaultCluster: Sendable {
    static let appID = "6f2c8a54-3b1d-4e0f-9a7b-2c5d8e1f4a60"
    static let writeKey = "fault-key"
    static let clientSecret = "fault-secret"
    static let publicURL = "https://hubsignal.example.com"

    let database: TestDatabase
    let hubSpot: HubSpotSandbox
    let oneSignal: OneSignalSandbox
    let processes: [ServeProcess]
    let load: SegmentLoad
    private let stopped = Mutex<Set<Int>>([])

    /// The environment every `serve` process gets.
    static func environment(database: TestDatabase, hubSpot: HubSpotSandbox, oneSignal: OneSignalSandbox) -> [String: String] {
        [
            "DATABASE_URL": database.connectionString, "HUBSIGNAL_WRITE_KEYS": writeKey,
            "HUBSIGNAL_MIGRATIONS_DIR": TestPostgres.migrationsDirectory.path, "HUBSIGNAL_LOG_LEVEL": "info",
            "HUBSPOT_ACCESS_TOKEN": "pat-faults", "HUBSPOT_BASE_URL": hubSpot.baseURL, "HUBSPOT_CLIENT_SECRET": clientSecret,
            "HUBSIGNAL_PUBLIC_URL": publicURL, "HUBSPOT_PORTAL_ID": String(WorkflowActionRequest.portalID), "ONESIGNAL_APP_ID": appID, "ONESIGNAL_API_KEY": "os_v2_app_faults",
            "ONESIGNAL_BASE_URL": oneSignal.baseURL!.absoluteString, "HUBSIGNAL_SYNC_LINGER_MS": "200",
            "HUBSIGNAL_SYNC_LEASE_SECONDS": "5", "HUBSIGNAL_DESTINATION_TIMEOUT_SECONDS": "2",
        ]
    }

    private init(database: TestDatabase, hubSpot: HubSpotSandbox, oneSignal: OneSignalSandbox, processes: [ServeProcess]) {
        self.database = database
        self.hubSpot = hubSpot
        self.oneSignal = oneSignal
        self.processes = processes
        self.load = SegmentLoad(writeKey: Self.writeKey)
    }

    /// Starts the sandboxes and `processes` serve processes on `database`, runs `body`, and stops everything.
    static func run(
        database: TestDatabase, processes count: Int = 1, environment extra: [String: String] = [:],
        _ body: (FaultCluster) async throws -> Void
    ) async throws {
        let hubSpot = HubSpotSandbox(configuration: .init(accessToken: "pat-faults", rateLimit: 1_000))
        _ = try await hubSpot.start()
        let oneSignal = OneSignalSandbox(configuration: .init(appID: appID, apiKey: "os_v2_app_faults"))
        _ = try await oneSignal.start()
        let environment = Self.environment(database: database, hubSpot: hubSpot, oneSignal: oneSignal).merging(extra) { $1 }
        var processes: [ServeProcess] = []
        do {
            for index in 0..<count {
                processes.append(
                    try ServeProcess(
                        port: try EmbeddedPostgres.findFreePort(),
                        environment: environment.merging(["HUBSIGNAL_WORKER_ID": "p\(index)"]) { $1 }))
            }
            for process in processes { try await process.waitUntilReady() }
            let cluster = FaultCluster(database: database, hubSpot: hubSpot, oneSignal: oneSignal, processes: processes)
            try await body(cluster)
            for process in processes where process.isRunning {
                #expect(await process.terminate() == 0, "serve on \(process.port) did not exit cleanly: \(process.logTail())")
            }
        } catch {
            for process in processes { await process.kill() }
            await hubSpot.stop()
            await oneSignal.stop()
            throw error
        }
        await hubSpot.stop()
        await oneSignal.stop()
    }

    /// The ports of the processes that are running now.
    var alivePorts: @Sendable () -> [Int] {
        let processes = self.processes
        return { processes.filter(\.isRunning).map(\.port) }
    }

    /// Identify calls for `users`, `perBatch` to a batch; each user has an email (HubSpot) and a user id (OneSignal).
    static func identifyBatches(users: Range<Int>, round: Int, perBatch: Int = 10) -> [[SegmentCall]] {
        let calls = users.map { index in
            SegmentCall.identify(
                userID: "user-\(index)", email: "user-\(index)@example.com", firstName: "r\(round)", messageID: "m-\(index)-\(round)")
        }
        return stride(from: 0, to: calls.count, by: perBatch).map { Array(calls[$0..<min($0 + perBatch, calls.count)]) }
    }

    /// Sends `batches` from `clients` concurrent clients, each request retried until acknowledged; some requests are
    /// sent twice on purpose (a client that lost the answer). Returns how many were not acknowledged in time.
    func send(_ batches: [[SegmentCall]], clients: Int = 4, duplicateEvery: Int = 5) async -> Int {
        let next = WorkCounter()
        let ports = alivePorts
        let load = self.load
        return await withTaskGroup(of: Int.self) { group in
            for _ in 0..<clients {
                group.addTask {
                    var failed = 0
                    while true {
                        let index = next.take()
                        guard index < batches.count else { return failed }
                        if await !load.send(batches[index], ports: ports) { failed += 1 }
                        if index % duplicateEvery == 0, await !load.send(batches[index], ports: ports) { failed += 1 }
                    }
                }
            }
            return await group.reduce(0, +)
        }
    }

    /// A workflow "send notification" action to `externalID`, signed as HubSpot signs it (v3); returns the status.
    func sendNotificationAction(callbackID: String, objectID: Int, externalID: String, port: Int) throws -> Int {
        let action = WorkflowActionRequest(callbackID: callbackID, objectID: objectID, externalID: externalID)
        let signature = action.signatureHeaders(clientSecret: Self.clientSecret, publicURL: Self.publicURL)
            .map { "\($0.name): \($0.value)\r\n" }.joined()
        let request =
            "POST \(WorkflowActionRequest.path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n\(signature)"
            + "Content-Type: application/json\r\nContent-Length: \(action.body.utf8.count)\r\nConnection: close\r\n\r\n\(action.body)"
        return try RawHTTP.send(port: port, request: request).status
    }

    /// Seeds OneSignal users (with a push subscription) as their app's SDK would have created them.
    func seedOneSignalUsers(_ users: Range<Int>) throws {
        for index in users {
            try oneSignal.seedUser(
                appID: Self.appID, externalID: "user-\(index)", subscriptions: [.init(type: "AndroidPush", token: "token-\(index)")])
        }
    }

    /// Waits until the work is done (at most `timeout`), compares the three ledgers and records an issue, with the
    /// processes' logs, when they differ. Returns the report.
    @discardableResult
    func settleAndCheck(timeout: Duration = .seconds(120), sourceLocation: SourceLocation = #_sourceLocation) async throws -> LedgerReport {
        let settled = try await LedgerCheck.waitUntilSettled(client: database.client, timeout: timeout)
        let report = try await LedgerCheck.compare(
            client: database.client, acknowledged: load.ledger.acknowledged, hubSpot: hubSpot, oneSignal: oneSignal,
            oneSignalApps: ["default": Self.appID])
        let logs = processes.map { "serve :\($0.port):\n\($0.logTail(lines: 8))" }.joined(separator: "\n")
        // What holds the projection back when nothing settles: transactions anywhere on the server (the read horizon is
        // the oldest of them) and the log's progress against the projection's checkpoint.
        let diagnosis = try await Self.horizonDiagnosis(database.client)
        #expect(settled, "the work did not settle within \(timeout):\n\(report)\n\(logs)\n\(diagnosis)", sourceLocation: sourceLocation)
        #expect(report.isClean, "the ledgers differ:\n\(report)\n\(logs)", sourceLocation: sourceLocation)
        return report
    }

    /// The transactions open on the whole server (oldest first) and the log head against each subscriber's checkpoint.
    static func horizonDiagnosis(_ client: PQClient) async throws -> String {
        let transactions = try await client.query(
            """
            SELECT datname, state, backend_xid::text, backend_xmin::text,
                   round(extract(epoch FROM now() - xact_start)::numeric, 1)::text, left(query, 120)
            FROM pg_stat_activity
            WHERE xact_start IS NOT NULL AND pid <> pg_backend_pid()
            ORDER BY xact_start LIMIT 10
            """)
        var lines = ["open transactions on the server (database, state, xid, xmin, seconds open, query):"]
        for row in transactions {
            let (database, state, xid, xmin, seconds, query) = try row.decode((String?, String?, String?, String?, String?, String?).self)
            lines.append("  \(database ?? "-") \(state ?? "-") xid=\(xid ?? "-") xmin=\(xmin ?? "-") \(seconds ?? "?") s: \(query ?? "")")
        }
        let horizon = try await client.query(
            """
            SELECT pg_snapshot_xmin(pg_current_snapshot())::text,
                   (SELECT max(transaction_id)::text FROM events), (SELECT max(position)::text FROM events)
            """)[0].decode((String?, String?, String?).self)
        lines.append("read horizon (xmin) \(horizon.0 ?? "-"); newest event transaction \(horizon.1 ?? "-"), position \(horizon.2 ?? "-")")
        for row in try await client.query("SELECT name, transaction_id::text, position::text FROM subscription_checkpoints ORDER BY name") {
            let (name, transaction, position) = try row.decode((String, String?, String?).self)
            lines.append("  checkpoint \(name): transaction \(transaction ?? "-"), position \(position ?? "-")")
        }
        return lines.joined(separator: "\n")
    }

    /// Waits until `condition` holds (polling), at most `timeout`.
    static func waitUntil(
        _ what: String, timeout: Duration = .seconds(60), sourceLocation: SourceLocation = #_sourceLocation,
        _ condition: () async throws -> Bool
    ) async throws {
        do {
            try await TestSupport.waitUntil(what, timeout: timeout, condition)
        } catch let timedOut as PollingTimeout {
            Issue.record("\(timedOut)", sourceLocation: sourceLocation)
            throw timedOut
        }
    }

    /// A count from SQL.
    func count(_ query: PQQuery) async throws -> Int {
        Int(try await database.client.query(query)[0].decode(Int64.self, at: 0))
    }
}

/// Hands out 0, 1, 2, … to concurrent workers.
final class WorkCounter: Sendable {
    private let next = Mutex(0)

    func take() -> Int {
        next.withLock { value in
            defer { value += 1 }
            return value
        }
    }
}
