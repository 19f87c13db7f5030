import EmbeddedPostgres
import FaultHarness
import Foundation
import PQ
import Testing
import TestSupport

extension FaultSuite {
    /// PostgreSQL going away, losing connections, or refusing writes while traffic flows.
    @Suite struct DatabaseFaults {
        enum Fault: String, CaseIterable, CustomTestStringConvertible {
            case fastRestart, immediateRestart, connectionsTerminated
            var testDescription: String { rawValue }
        }

        @Test("PostgreSQL restarted or its connections cut while traffic flows: nothing acknowledged is lost", arguments: Fault.allCases)
        func databaseFault(_ fault: Fault) async throws {
            try await TestPostgres.withPrivateServer { server, database in
                try await FaultCluster.run(database: database) { cluster in
                    try cluster.seedOneSignalUsers(0..<5)
                    let sending = Task { await cluster.send(FaultCluster.identifyBatches(users: 0..<200, round: 1, perBatch: 4), clients: 4) }
                    // A workflow notification in flight across the fault too.
                    #expect(try cluster.sendNotificationAction(callbackID: "cb-db-\(fault)", objectID: 77, externalID: "user-0", port: cluster.processes[0].port) == 200)
                    try await FaultCluster.waitUntil("traffic under way") { cluster.load.ledger.acknowledged.count >= 40 }
                    let acknowledgedBefore = cluster.load.ledger.acknowledged.count
                    let startedBefore = try await Self.postmasterStart(server)
                    switch fault {
                    case .fastRestart: try await server.restart(mode: .fast)
                    case .immediateRestart: try await server.restart(mode: .immediate)
                    case .connectionsTerminated:
                        // Connections cut mid-transaction, three times over.
                        let admin = PQClient(configuration: .init(connectionString: server.connectionString), logger: TestPostgres.logger)
                        for _ in 0..<3 {
                            _ = try await admin.query(
                                """
                                SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                                WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
                                """)
                            try await Task.sleep(for: .milliseconds(300))
                        }
                        await admin.shutdown()
                    }
                    #expect(await sending.value == 0, "every batch is acknowledged in the end")
                    // The fault struck while traffic flowed: the server really restarted (or its sessions were cut) before
                    // every batch was acknowledged. (Whether a client saw a failure depends on the machine's speed: a fast
                    // restart between two requests is ridden out unseen.)
                    #expect(acknowledgedBefore < 200, "the fault came after the traffic")
                    if fault != .connectionsTerminated {
                        #expect(try await Self.postmasterStart(server) != startedBefore, "PostgreSQL did not restart")
                    }
                    #expect(cluster.processes[0].isRunning, "serve rode out the fault: \(cluster.processes[0].logTail())")
                    let report = try await cluster.settleAndCheck()
                    #expect(report.acknowledgedInLog == 200 && report.notificationsSent == 1)
                }
            }
        }

        /// When the server's postmaster started (changes with every restart).
        static func postmasterStart(_ server: EmbeddedPostgres) async throws -> String {
            let admin = PQClient(configuration: .init(connectionString: server.connectionString), logger: TestPostgres.logger)
            defer { Task { await admin.shutdown() } }
            return try await admin.query("SELECT pg_postmaster_start_time()::text").first?.decode(String.self, at: 0) ?? ""
        }

        @Test("a read-only database: ingestion answers 503 with the cause, stores nothing, /readyz says so, and recovers")
        func readOnlyDatabase() async throws {
            try await TestPostgres.withPrivateServer { server, database in
                try await FaultCluster.run(database: database) { cluster in
                    let port = cluster.processes[0].port
                    try await database.client.execute("ALTER SYSTEM SET default_transaction_read_only = on")
                    _ = try await database.client.query("SELECT pg_reload_conf()")
                    try await Task.sleep(for: .milliseconds(300))
                    let calls = FaultCluster.identifyBatches(users: 0..<5, round: 1, perBatch: 5)[0]
                    let refused = try RawHTTP.send(port: port, request: Self.batchRequest(calls, port: port))
                    #expect(refused.status == 503)
                    #expect(refused.header("Retry-After") == "5")
                    #expect(refused.body.contains("read-only") && refused.body.contains("nothing was stored"), "\(refused.body)")
                    let ready = try RawHTTP.send(
                        port: cluster.processes[0].adminPort, request: "GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    #expect(ready.status == 503 && ready.body.contains("database_read_only"), "\(ready.body)")
                    try await database.client.withConnection { connection in
                        try await connection.execute("SET default_transaction_read_only = off")
                        try await connection.execute("ALTER SYSTEM RESET default_transaction_read_only")
                        _ = try await connection.query("SELECT pg_reload_conf()")
                    }
                    try await Task.sleep(for: .milliseconds(300))
                    #expect(try await cluster.count("SELECT count(*) FROM events") == 0, "nothing stored while read-only")
                    #expect(await cluster.send([calls]) == 0)
                    try await cluster.settleAndCheck()
                }
            }
        }

        @Test("a full disk: ingestion answers 503 naming it and stores nothing; the same requests succeed once there is space")
        func diskFull() async throws {
            try await TestPostgres.withDatabase { database in
                try await FaultCluster.run(database: database) { cluster in
                    let port = cluster.processes[0].port
                    // PostgreSQL's own disk-full error (SQLSTATE 53100, as raised when extending a file fails with
                    // ENOSPC), raised here by a trigger: a real full disk cannot be made without mounting a file system.
                    try await database.client.execute(
                        """
                        CREATE FUNCTION fault_disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
                        BEGIN
                            RAISE EXCEPTION 'could not extend file "base/16384/16385": No space left on device'
                                USING ERRCODE = 'disk_full', HINT = 'Check free disk space.';
                        END $$
                        """)
                    try await database.client.execute(
                        "CREATE TRIGGER fault_disk_full BEFORE INSERT ON events FOR EACH STATEMENT EXECUTE FUNCTION fault_disk_full()")
                    let calls = FaultCluster.identifyBatches(users: 0..<5, round: 1, perBatch: 5)[0]
                    let refused = try RawHTTP.send(port: port, request: Self.batchRequest(calls, port: port))
                    #expect(refused.status == 503)
                    #expect(refused.body.contains("out of disk space"), "\(refused.body)")
                    #expect(!refused.body.contains("16385"), "no server internals in the answer")
                    #expect(cluster.processes[0].logTail(lines: 40).contains("53100"), "the log names the SQLSTATE")
                    try await database.client.execute("DROP TRIGGER fault_disk_full ON events")
                    #expect(try await cluster.count("SELECT count(*) FROM events") == 0)
                    #expect(await cluster.send([calls]) == 0)
                    try await cluster.settleAndCheck()
                }
            }
        }

        static func batchRequest(_ calls: [SegmentCall], port: Int) -> String {
            let body = #"{"batch":["# + calls.map(\.json).joined(separator: ",") + "]}"
            let authorization = Data((FaultCluster.writeKey + ":").utf8).base64EncodedString()
            return "POST /v1/batch HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nAuthorization: Basic \(authorization)\r\n"
                + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
        }
    }
}
