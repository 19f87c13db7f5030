import AsyncHTTPClient
import Domain
import EmbeddedPostgres
import EventStore
import FaultHarness
import Foundation
import NIOCore
import PQ
import Synchronization
import Testing
import TestSupport

extension FaultSuite {
    /// PostgreSQL failing over to its synchronous standby while traffic and syncs run.
    @Suite struct Failover {
        /// Whether this machine can make a standby: `pg_basebackup` beside `initdb`. Without PostgreSQL at all the test
        /// runs and fails with the reason, as every test needing PostgreSQL does.
        static var canMakeStandby: Bool {
            guard let bin = try? EmbeddedPostgres.findBinDirectory() else { return true }
            return FileManager.default.isExecutableFile(atPath: bin + "/pg_basebackup")
        }

        @Test(
            "primary killed, synchronous standby promoted: 503 + Retry-After meanwhile, every acknowledged call once on the new primary, readers gap-free, nothing sent twice",
            .enabled(if: canMakeStandby, "pg_basebackup is not installed beside initdb (Debian: it comes with the postgresql package), so no standby can be made")
        )
        func primaryKilledStandbyPromoted() async throws {
            try await TestPostgres.withReplicatedServers { servers, database in
                // The service gets the multi-host string (both servers, read-write wanted) and nothing else.
                #expect(database.connectionString.contains("target_session_attrs=read-write"))
                #expect(try PQConnectionString.parse(database.connectionString).contains { $0.key == "host" && $0.value == "127.0.0.1,127.0.0.1" })
                try await FaultCluster.run(database: database) { cluster in
                    try await Self.failOver(servers: servers, database: database, cluster: cluster)
                }
            }
        }

        @Test(
            "PQClient and PQListener on a multi-host read-write string follow a promotion by themselves; retryable errors meanwhile",
            .enabled(if: canMakeStandby, "pg_basebackup is not installed beside initdb (Debian: it comes with the postgresql package), so no standby can be made")
        )
        func clientAndListenerFollowPromotion() async throws {
            try await TestPostgres.withReplicatedServers { servers, database in
                let (primaryPort, standbyPort) = (servers.primary.port, servers.standby.port)
                // Listed first, the standby is skipped: it is read-only.
                let standbyFirst = PQClient(
                    configuration: .init(
                        connectionString: "host=127.0.0.1,127.0.0.1 port=\(standbyPort),\(primaryPort) user=\(servers.user) "
                            + "dbname=\(servers.database) target_session_attrs=read-write"),
                    logger: TestPostgres.logger)
                #expect(try await Self.serverPort(standbyFirst) == primaryPort)
                await standbyFirst.shutdown()
                // A write reaching a standby (a client without target_session_attrs) fails with 25006, which is retryable.
                let writeOnStandby = await Self.error { _ = try await Self.onStandby(servers) { try await $0.execute("CREATE TABLE failover_probe (id int)") } }
                #expect(writeOnStandby?.sqlState == "25006" && writeOnStandby?.isRetryable == true, "\(String(describing: writeOnStandby))")

                // Users' SQL can go to the standby: the log's gap-free read (pg_current_snapshot) runs there too, and an
                // acknowledged append is there already (synchronous_commit = on waits for the standby's flush; replay
                // follows within moments).
                let appended = try await database.makeEventStore().append([
                    NewEvent(
                        stream: "user-1", type: EventType(rawValue: "segment.track"), source: .segment, idempotencyKey: "failover-1",
                        occurredAt: Date(), payload: PQJSONB(#"{"event":"Viewed"}"#))
                ])
                try await FaultCluster.waitUntil("the standby replayed the append", timeout: .seconds(10)) {
                    let page = try await Self.onStandby(servers) { try await EventStore(client: $0, logger: TestPostgres.logger).read(after: .origin, limit: 10) }
                    return page.events.map(\.position) == appended.map(\.position) && !page.isHeldBack
                }

                let client = database.client
                #expect(try await Self.serverPort(client) == primaryPort)
                let listener = PQListener(
                    connectionString: servers.connectionString, channels: ["failover"], logger: TestPostgres.logger,
                    reconnectDelay: .milliseconds(200))
                let heard = Mutex<[PQListener.Event]>([])
                let stream = listener.events()
                let collecting = Task { for await event in stream { heard.withLock { $0.append(event) } } }
                let listening = Task { try await listener.run() }
                try await FaultCluster.waitUntil("the listener is connected") { heard.withLock { $0 } == [.connected] }

                try await servers.killPrimary()
                // No server takes writes: a pooled connection is found lost, a new one finds only a read-only server.
                for attempt in 0..<3 {
                    let error = await Self.error { try await client.query("SELECT 1") }
                    #expect(error?.isRetryable == true, "attempt \(attempt) without a primary: \(String(describing: error))")
                }
                try await servers.promoteStandby()
                // The same client, not restarted, reaches the promoted standby.
                #expect(try await Self.serverPort(client) == standbyPort)
                try await FaultCluster.waitUntil("the listener reconnected to the promoted standby", timeout: .seconds(30)) {
                    heard.withLock { $0 }.filter { $0 == .connected }.count == 2
                }
                try await client.execute("SELECT pg_notify('failover', 'after the promotion')")
                try await FaultCluster.waitUntil("the notification sent on the new primary arrived") {
                    heard.withLock { $0 }.contains {
                        if case .notification(let notification) = $0 { return notification.payload == "after the promotion" }
                        return false
                    }
                }
                listening.cancel()
                _ = try? await listening.value
                collecting.cancel()
            }
        }

        /// The `PQError` `body` throws, or `nil` when it succeeds.
        static func error(_ body: () async throws -> Void) async -> PQError? {
            do {
                try await body()
                return nil
            } catch {
                return error as? PQError
            }
        }

        static func failOver(servers: ReplicatedPostgres, database: TestDatabase, cluster: FaultCluster) async throws {
            let port = cluster.processes[0].port
            let testStarted = ContinuousClock.now
            #expect(try await Self.serverPort(database.client) == servers.primary.port, "the service's string reaches the primary first")
            try cluster.seedOneSignalUsers(0..<20)
            // The first HubSpot push (of a first wave of people) is held 3 s: the kill comes while it is in flight, so its
            // result cannot be recorded (the service gives up on it after its 2 s destination timeout; HubSpot applies it).
            cluster.hubSpot.faults.inject(.latency(.seconds(3)), pathPrefix: "/crm/v3/objects/contacts/batch/upsert")
            #expect(await cluster.send(FaultCluster.identifyBatches(users: 0..<Self.firstWave, round: 1, perBatch: 4)) == 0)
            try await FaultCluster.waitUntil("the first HubSpot push is in flight") { cluster.hubSpot.faults.pendingCount == 0 }
            let reader = GapFreeReader(store: database.makeEventStore())
            let reading = Task { await reader.run() }
            let probe = IngestProbe(port: port, writeKey: FaultCluster.writeKey)
            let probing = Task { await probe.run() }
            let sending = Task { await cluster.send(FaultCluster.identifyBatches(users: Self.firstWave..<Self.users, round: 1, perBatch: 4), clients: 4) }
            #expect(try cluster.sendNotificationAction(callbackID: "cb-failover-1", objectID: 801, externalID: "user-0", port: port) == 200)
            try await FaultCluster.waitUntil("traffic under way") {
                cluster.load.ledger.acknowledged.count >= Self.firstWave + 80 && probe.acknowledged.count >= 3
            }

            // Before the kill, on the primary: the newest transaction that wrote events, and each subscriber's checkpoint.
            let newestTransactionBefore = try await database.client.query("SELECT max(transaction_id)::text::bigint FROM events")[0]
                .decode(Int64.self, at: 0)
            let checkpointsBefore = try await Self.checkpoints(database.client)
            let readBeforeKill = reader.positions.count
            let acknowledgedAtKill = cluster.load.ledger.acknowledged.count
            let syncedAtKill = try await cluster.count("SELECT count(*) FROM events WHERE type = 'hubsignal.hubspot.contact_synced'")
            try await servers.killPrimary()
            let killed = ContinuousClock.now
            // A failover manager notices a dead primary after a while (Patroni: its TTL); meanwhile only the read-only
            // standby answers, and ingestion must refuse rather than acknowledge.
            try await Task.sleep(for: .seconds(2))
            let promoting = ContinuousClock.now
            try await servers.promoteStandby()
            let promoted = ContinuousClock.now
            // The first transaction id the promoted server hands out (it continues the primary's, never reuses them).
            let firstNewTransaction = try await Self.onStandby(servers) { try await $0.query("SELECT pg_current_xact_id()::text::bigint")[0].decode(Int64.self, at: 0) }
            #expect(firstNewTransaction > newestTransactionBefore, "transaction ids continue on the promoted standby")

            try await FaultCluster.waitUntil("ingestion answers 200 again after the promotion", timeout: .seconds(45)) {
                probe.firstAcknowledgement(sentAfter: promoted) != nil
            }
            let recovered = probe.firstAcknowledgement(sentAfter: killed)!
            #expect(await sending.value == 0, "every batch is acknowledged in the end")
            #expect(acknowledgedAtKill < Self.users, "the kill landed while the load was sending (\(acknowledgedAtKill) acknowledged)")
            #expect(cluster.load.ledger.failures > 0, "load requests were refused during the switch and sent again")
            // HubSpot retries a workflow action that failed; after the switch it is taken.
            try await FaultCluster.waitUntil("the second workflow action is accepted") {
                (try? cluster.sendNotificationAction(callbackID: "cb-failover-2", objectID: 802, externalID: "user-1", port: port)) == 200
            }
            // Syncs after the switch: every contact changes again.
            #expect(await cluster.send(FaultCluster.identifyBatches(users: 0..<Self.users, round: 2, perBatch: 20), clients: 4) == 0)
            probe.stop()
            await probing.value
            #expect(try await Self.serverPort(database.client) == servers.standby.port, "the clients now reach the promoted standby")

            // Every acknowledged call (the load's and the probe's) is on the new primary once; the sandboxes match.
            let report = try await cluster.settleAndCheck(timeout: .seconds(90))
            let probeReport = try await LedgerCheck.compare(
                client: database.client, acknowledged: probe.acknowledged, hubSpot: nil, oneSignal: nil)
            #expect(report.acknowledgedInLog == Self.users * 2)
            #expect(probeReport.missingFromLog.isEmpty && probeReport.acknowledgedInLog == probe.acknowledged.count, "\(probeReport)")
            #expect(report.notificationRequests == 2 && report.notificationsSent == 2, "\(report)")
            // Nothing was created twice in the sandboxes, and each contact has its value from after the switch.
            let people = Self.users + probe.acknowledged.count
            #expect(cluster.hubSpot.contacts().count == people, "one HubSpot contact per person")
            let oneSignalUsers = cluster.oneSignal.users(appID: FaultCluster.appID).compactMap(\.externalID)
            #expect(oneSignalUsers.count == Set(oneSignalUsers).count, "one OneSignal user per external id")
            #expect(try await cluster.count("SELECT count(*) FROM events WHERE type = 'hubsignal.hubspot.contact_synced'") > syncedAtKill,
                "HubSpot syncs went on after the switch")
            for index in stride(from: 0, to: Self.users, by: 37) {
                #expect(cluster.hubSpot.contact(email: "user-\(index)@example.com")?.properties["firstname"] == "r2", "user-\(index)")
            }

            // Ingestion during the switch: only 200 and 503 (with Retry-After), never 500 or a dropped connection, and no
            // 200 for a request sent once the primary was dead and answered before the standby took over.
            let answers = probe.answers
            let refused = answers.filter { $0.status == 503 }
            let unexpected = answers.filter { $0.status != 200 && $0.status != 503 }
            #expect(unexpected.isEmpty, "answers other than 200/503: \(unexpected.prefix(5).map(\.summary))")
            #expect(!refused.isEmpty, "the probe saw the switch (503s)")
            #expect(refused.allSatisfy { $0.retryAfter == "5" }, "every 503 has Retry-After: \(refused.prefix(3).map(\.summary))")
            let impossible = answers.filter { $0.status == 200 && $0.sentAt > killed && $0.answeredAt < promoting }
            #expect(impossible.isEmpty, "acknowledged while no server could take writes: \(impossible.map(\.summary))")

            // Readers: the test's own gap-free reader, running across the switch, read every event of the log exactly once,
            // before and after the promotion; the service's subscribers moved on from their checkpoints.
            reading.cancel()
            await reading.value
            try await reader.drain()
            let positions = reader.positions
            let stored = try await database.client.query("SELECT position FROM events ORDER BY position").map { try $0.decode(Int64.self, at: 0) }
            #expect(readBeforeKill > 0)
            #expect(positions.count == Set(positions).count, "no event read twice (\(positions.count - Set(positions).count) repeats)")
            #expect(Set(positions) == Set(stored), "no event skipped: \(Set(stored).subtracting(positions).count) unread, \(Set(positions).subtracting(stored).count) read but not in the log")
            let transactionIDs = reader.transactionIDs
            #expect(transactionIDs.contains { $0 < UInt64(firstNewTransaction) } && transactionIDs.contains { $0 >= UInt64(firstNewTransaction) },
                "the reader read events written before and after the promotion")
            let checkpointsAfter = try await Self.checkpoints(database.client)
            for (name, before) in checkpointsBefore {
                let after = checkpointsAfter[name]
                #expect(after != nil && after! >= before, "checkpoint \(name): \(before) before the kill, \(after.map(\.description) ?? "none") after")
            }

            let upserts = cluster.hubSpot.requests.all.filter { $0.path.hasPrefix("/crm/v3/objects/contacts/batch/upsert") }.count
            let seconds = { (duration: Duration) in String(format: "%.2f", Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18) }
            print(
                """
                failover: primary killed → standby promoted in \(seconds(promoted - promoting)) s (after \(seconds(promoting - killed)) s without a \
                primary); first 200 \(seconds(recovered.answeredAt - killed)) s after the kill, \(seconds(recovered.answeredAt - promoting)) s after \
                pg_promote was called; at the kill \(acknowledgedAtKill) of \(Self.users) load calls acknowledged and \(syncedAtKill) contacts synced; probe: \(answers.count) answers, \(refused.count) × 503, \(answers.filter { $0.status == 200 }.count) × 200; load: \
                \(cluster.load.ledger.attempts) requests, \(cluster.load.ledger.failures) refused and retried; reader: \(positions.count) events, \
                \(reader.errors) failed reads; HubSpot batch upserts: \(upserts), OneSignal users: \(oneSignalUsers.count); whole test \(seconds(ContinuousClock.now - testStarted)) s
                """)
        }

        /// People the load identifies, twice (before and after the switch).
        static let users = 800
        /// The people of the first wave, sent before the load (their HubSpot push is in flight at the kill).
        static let firstWave = 40

        /// The port of the server `client` is connected to.
        static func serverPort(_ client: PQClient) async throws -> Int {
            Int(try await client.query("SELECT inet_server_port()")[0].decode(Int32.self, at: 0))
        }

        /// Each subscriber's checkpoint.
        static func checkpoints(_ client: PQClient) async throws -> [String: LogCursor] {
            var result: [String: LogCursor] = [:]
            for row in try await client.query("SELECT name, transaction_id::text::bigint, position FROM subscription_checkpoints") {
                let (name, transaction, position) = try row.decode((String, Int64, Int64).self)
                result[name] = LogCursor(transactionID: UInt64(transaction), position: position)
            }
            return result
        }

        /// Runs `body` on a connection to the standby alone.
        static func onStandby<T: Sendable>(_ servers: ReplicatedPostgres, _ body: (PQClient) async throws -> T) async throws -> T {
            var configuration = PQClient.Configuration(connectionString: servers.standby.connectionString)
            configuration.maximumConnections = 1
            let client = PQClient(configuration: configuration, logger: TestPostgres.logger)
            do {
                let result = try await body(client)
                await client.shutdown()
                return result
            } catch {
                await client.shutdown()
                throw error
            }
        }
    }
}

/// Sends one identify call at a time to `POST /v1/batch`, each retried with its `messageId` until acknowledged (as an
/// SDK does), and records every answer with when it was sent and answered.
final class IngestProbe: Sendable {
    struct Answer: Sendable {
        var messageID: String
        var sentAt: ContinuousClock.Instant
        var answeredAt: ContinuousClock.Instant
        /// The HTTP status, or `nil` when the exchange failed (connection refused, reset, timeout).
        var status: Int?
        var retryAfter: String?
        var body: String

        var summary: String { "\(messageID): \(status.map(String.init) ?? "no answer") \(body.prefix(160))" }
    }

    let port: Int
    let writeKey: String
    private let state = Mutex<(answers: [Answer], acknowledged: Set<String>, stopping: Bool)>(([], [], false))

    init(port: Int, writeKey: String) {
        self.port = port
        self.writeKey = writeKey
    }

    var answers: [Answer] { state.withLock { $0.answers } }
    var acknowledged: Set<String> { state.withLock { $0.acknowledged } }

    /// The first acknowledgement of a request sent after `instant`.
    func firstAcknowledgement(sentAfter instant: ContinuousClock.Instant) -> Answer? {
        state.withLock { $0.answers.first { $0.status == 200 && $0.sentAt > instant } }
    }

    /// Ends ``run()`` once the call being sent is acknowledged (so that every call sent was acknowledged).
    func stop() { state.withLock { $0.stopping = true } }

    /// Sends until ``stop()``, a request every 50 ms or so.
    func run() async {
        var index = 0
        while !state.withLock({ $0.stopping && $0.acknowledged.count == index }) {
            let call = SegmentCall.identify(
                userID: "probe-\(index)", email: "probe-\(index)@example.com", firstName: "p", messageID: "probe-\(index)")
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/batch")
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Basic " + Data((writeKey + ":").utf8).base64EncodedString())
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: #"{"batch":["# + call.json + "]}"))
            let sentAt = ContinuousClock.now
            var answer = Answer(messageID: call.messageID, sentAt: sentAt, answeredAt: sentAt, status: nil, retryAfter: nil, body: "")
            do {
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(20))
                let body = try await response.body.collect(upTo: 1 << 16)
                answer.status = Int(response.status.code)
                answer.retryAfter = response.headers.first(name: "Retry-After")
                answer.body = String(buffer: body)
            } catch {
                answer.body = "\(error)"
            }
            answer.answeredAt = ContinuousClock.now
            let recorded = answer
            state.withLock {
                $0.answers.append(recorded)
                if recorded.status == 200 { $0.acknowledged.insert(recorded.messageID) }
            }
            if answer.status == 200 { index += 1 }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }
}

/// Reads the whole log in readers' order, as a subscription does, and keeps what it read; read failures (the
/// database going away) are counted and the read retried from the same cursor.
final class GapFreeReader: Sendable {
    let store: EventStore
    private let state = Mutex<(cursor: LogCursor, positions: [Int64], transactionIDs: Set<UInt64>, errors: Int)>((.origin, [], [], 0))

    init(store: EventStore) { self.store = store }

    var positions: [Int64] { state.withLock { $0.positions } }
    var transactionIDs: Set<UInt64> { state.withLock { $0.transactionIDs } }
    var errors: Int { state.withLock { $0.errors } }

    /// Reads until cancelled.
    func run() async {
        while !Task.isCancelled {
            do {
                if try await readPage() == 0 { try? await Task.sleep(for: .milliseconds(50)) }
            } catch {
                state.withLock { $0.errors += 1 }
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    /// Reads until the log has nothing more to show (an empty page, nothing held back), for at most 30 seconds.
    func drain() async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while try await readPage() > 0 {
            guard ContinuousClock.now < deadline else { throw FaultHarnessError("the log was still held back after 30 s of draining") }
        }
    }

    /// Reads one page after the cursor and returns how many events it held.
    private func readPage() async throws -> Int {
        let cursor = state.withLock { $0.cursor }
        let page = try await store.read(after: cursor, limit: 500)
        state.withLock {
            $0.positions.append(contentsOf: page.events.map(\.position))
            $0.transactionIDs.formUnion(page.events.map(\.transactionID))
            $0.cursor = page.nextCursor
        }
        return page.events.count + (page.isHeldBack ? 1 : 0)
    }
}
