import Foundation
import Logging
import PQ
import Testing
import TestSupport

@Suite struct PQClientTests {
    @Test func transactionCommitsOrRollsBack() async throws {
        try await TestPostgres.withDatabase(migrated: false) { database in
            let client = database.client
            try await client.execute("CREATE TABLE t (id int PRIMARY KEY)")
            try await client.withTransaction { connection in
                try await connection.execute("INSERT INTO t VALUES (\(1))")
            }
            struct Boom: Error {}
            await #expect(throws: Boom.self) {
                try await client.withTransaction { connection in
                    try await connection.execute("INSERT INTO t VALUES (\(2))")
                    throw Boom()
                }
            }
            let ids = try await client.query("SELECT id FROM t ORDER BY id").map { try $0.decode(Int.self, at: 0) }
            #expect(ids == [1])
        }
    }

    @Test func commitOfAFailedTransactionThrows() async throws {
        try await TestPostgres.withDatabase(migrated: false) { database in
            let client = database.client
            try await client.execute("CREATE TABLE t (id int PRIMARY KEY)")
            let error = await #expect(throws: PQError.self) {
                try await client.withTransaction { connection in
                    try await connection.execute("INSERT INTO t VALUES (\(1))")
                    _ = try? await connection.execute("INSERT INTO t VALUES (\(1))")  // swallowed unique violation
                }
            }
            #expect(error?.message.contains("rolled back") == true)
            #expect(try await client.query("SELECT count(*) FROM t")[0].decode(Int.self, at: 0) == 0)
        }
    }

    @Test func serverErrorsCarryFieldsButDescriptionsHoldNoData() async throws {
        try await TestPostgres.withDatabase(migrated: false) { database in
            let client = database.client
            try await client.execute("CREATE TABLE people (email text UNIQUE)")
            try await client.execute("INSERT INTO people VALUES (\("ada@example.com"))")
            let error = try #require(
                await #expect(throws: PQError.self) {
                    try await client.execute("INSERT INTO people VALUES (\("ada@example.com"))", name: "people.insert")
                })
            #expect(error.code == .server)
            #expect(error.sqlState == "23505")
            #expect(error.queryName == "people.insert")
            #expect(error.message.contains("duplicate key"))
            #expect(error.detail?.contains("ada@example.com") == true)
            #expect(!error.description.contains("ada@example.com"))
            #expect(!error.description.contains("duplicate"))
            #expect(error.debugDescription.contains("23505"))
            #expect(!error.isRetryable)
        }
    }

    @Test func exhaustedPoolTimesOutThenRecovers() async throws {
        try await TestPostgres.withDatabase(migrated: false) { database in
            var configuration = PQClient.Configuration(connectionString: database.connectionString)
            configuration.maximumConnections = 1
            configuration.connectionWaitTimeout = .milliseconds(300)
            let client = PQClient(configuration: configuration, logger: TestPostgres.logger)
            let (holding, release) = AsyncStream.makeStream(of: Void.self)
            let (started, signalStarted) = AsyncStream.makeStream(of: Void.self)
            let holder = Task {
                try await client.withConnection { connection in
                    try await connection.execute("SELECT 1")
                    signalStarted.yield()
                    for await _ in holding { break }
                }
            }
            for await _ in started { break }
            let began = ContinuousClock.now
            let error = await #expect(throws: PQError.self) { try await client.query("SELECT 2") }
            #expect(error?.code == .poolTimeout)
            #expect(error?.isRetryable == true)
            #expect(ContinuousClock.now - began >= .milliseconds(250))
            #expect(client.statistics.open == 1)

            // A waiter is handed the connection as soon as it comes back.
            let waiter = Task { try await client.query("SELECT 3")[0].decode(Int.self, at: 0) }
            try await Task.sleep(for: .milliseconds(50))
            release.yield()
            try await holder.value
            #expect(try await waiter.value == 3)
            await client.shutdown()
        }
    }

    @Test func killedConnectionFailsRetryablyAndIsReplaced() async throws {
        try await TestPostgres.withDatabase(migrated: false) { database in
            let client = database.client
            let error = try #require(
                await #expect(throws: PQError.self) {
                    try await client.withConnection { connection in
                        let pid = try await connection.query("SELECT pg_backend_pid()")[0].decode(Int32.self, at: 0)
                        // Kill it from another connection while it is lent out, then use it.
                        try await Self.terminate(pid: pid, server: database.connectionString)
                        try await connection.query("SELECT 1")
                    }
                })
            #expect(error.code == .connectionLost)
            #expect(error.isRetryable)
            #expect(client.statistics.open == 0)
            #expect(try await client.query("SELECT 42")[0].decode(Int.self, at: 0) == 42)
        }
    }

    @Test func idleConnectionClosedByTheServerIsDiscardedBeforeUse() async throws {
        try await TestPostgres.withDatabase(migrated: false) { database in
            let client = database.client
            let pid = try await client.query("SELECT pg_backend_pid()")[0].decode(Int32.self, at: 0)
            #expect(client.statistics.idle == 1)
            try await Self.terminate(pid: pid, server: database.connectionString)
            try await Task.sleep(for: .milliseconds(100))
            // No error reaches the caller: the dead idle connection is noticed and replaced.
            let newPID = try await client.query("SELECT pg_backend_pid()")[0].decode(Int32.self, at: 0)
            #expect(newPID != pid)
        }
    }

    /// A task cancelled at any moment — before its statement is sent, while it is sent, while it runs — ends well before
    /// the statement would, and the client stays usable.
    @Test func aTaskCancelledAtAnyMomentEndsItsStatementPromptly() async throws {
        try await TestPostgres.withDatabase(migrated: false) { database in
            let client = database.client
            for delay in [0, 1, 2, 3, 5, 8, 13, 21] {
                let began = ContinuousClock.now
                let sleeper = Task { try await client.execute("SELECT pg_sleep(20)") }
                try await Task.sleep(for: .milliseconds(delay))
                sleeper.cancel()
                _ = await sleeper.result
                // Well before the statement's 20 s (a busy machine, running the whole suite, has taken 6 s).
                #expect(ContinuousClock.now - began < .seconds(12), "cancelled after \(delay) ms")
            }
            #expect(try await client.query("SELECT 1")[0].decode(Int.self, at: 0) == 1)
        }
    }

    @Test func cancellingATaskCancelsItsStatement() async throws {
        try await TestPostgres.withDatabase(migrated: false) { database in
            let client = database.client
            let began = ContinuousClock.now
            let sleeper = Task { try await client.execute("SELECT pg_sleep(30)") }
            try await Task.sleep(for: .milliseconds(300))
            sleeper.cancel()
            let result = await sleeper.result
            #expect(throws: (any Error).self) { try result.get() }
            #expect(ContinuousClock.now - began < .seconds(10))
            #expect(try await client.query("SELECT 1")[0].decode(Int.self, at: 0) == 1)
        }
    }

    @Test func copyInStreamsEscapedRows() async throws {
        try await TestPostgres.withDatabase(migrated: false) { database in
            let client = database.client
            try await client.execute("CREATE TABLE copied (n int, body text, doc jsonb)")
            let copied = try await client.withConnection { connection in
                try await connection.copyIn("COPY copied (n, body, doc) FROM STDIN") { writer in
                    for n in 0..<5000 {
                        writer.append(String(n))
                        writer.append(n == 0 ? nil : "tab\there\nnewline \\ backslash \(n)")
                        writer.append(#"{"n": \#(n), "s": "a\"b"}"#)
                        try writer.endRow()
                    }
                }
            }
            #expect(copied == 5000)
            let row = try await client.query("SELECT body, doc->>'s' FROM copied WHERE n = 7")[0]
            #expect(try row.decode(String.self, at: 0) == "tab\there\nnewline \\ backslash 7")
            #expect(try row.decode(String.self, at: 1) == "a\"b")
            #expect(try await client.query("SELECT count(*) FROM copied WHERE body IS NULL")[0].decode(Int.self, at: 0) == 1)
        }
    }

    @Test func failedCopyLeavesNothingAndTheConnectionUsable() async throws {
        try await TestPostgres.withDatabase(migrated: false) { database in
            let client = PQClient(configuration: .init(connectionString: database.connectionString), logger: TestPostgres.logger)
            try await client.execute("CREATE TABLE copied (n int)")
            let error = await #expect(throws: PQError.self) {
                try await client.withConnection { connection in
                    try await connection.copyIn("COPY copied (n) FROM STDIN") { writer in
                        writer.append("1")
                        try writer.endRow()
                        writer.append("not a number")
                        try writer.endRow()
                    }
                }
            }
            #expect(error?.sqlState == "22P02")
            #expect(try await client.query("SELECT count(*) FROM copied")[0].decode(Int.self, at: 0) == 0)
            await client.shutdown()
        }
    }

    @Test func connectionStringsWorkInBothForms() async throws {
        try await TestPostgres.withDatabase(migrated: false) { database in
            let keyValue = try PQConnectionString.replacingDatabase(in: database.connectionString, with: database.name)
            #expect(keyValue.contains("dbname='\(database.name)'"))
            let client = PQClient(configuration: .init(connectionString: keyValue + " application_name='probe'"), logger: TestPostgres.logger)
            let name = try await client.query("SELECT current_setting('application_name')")[0].decode(String.self, at: 0)
            #expect(name == "probe")
            await client.shutdown()

            let broken = PQClient(configuration: .init(connectionString: "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2"), logger: TestPostgres.logger)
            let error = await #expect(throws: PQError.self) { try await broken.query("SELECT 1") }
            #expect(error?.code == .connectionFailed)
            await broken.shutdown()
            #expect(throws: PQError.self) { try PQConnectionString.parse("host='unterminated") }
        }
    }

    /// libpq features pass through untouched: a host list tried in order, and `target_session_attrs`.
    @Test func multipleHostsAndTargetSessionAttributesWork() async throws {
        try await TestPostgres.withDatabase(migrated: false) { database in
            let settings = Dictionary(try PQConnectionString.parse(database.connectionString).map { ($0.key, $0.value) }) { a, _ in a }
            let port = try #require(settings["port"])
            let closedPort = "1"  // nothing listens there: libpq moves on to the next host
            let connectionString =
                "host=127.0.0.1,127.0.0.1 port=\(closedPort),\(port) user=\(settings["user"] ?? "") dbname=\(database.name) "
                + "target_session_attrs=read-write connect_timeout=5"
            let client = PQClient(configuration: .init(connectionString: connectionString), logger: TestPostgres.logger)
            let rows = try await client.query("SELECT inet_server_port(), pg_is_in_recovery()")
            let (serverPort, inRecovery) = try rows[0].decode((Int, Bool).self)
            #expect(String(serverPort) == port)
            #expect(!inRecovery)
            await client.shutdown()
        }
    }

    @Test func shutdownFailsNewWorkClearly() async throws {
        try await TestPostgres.withDatabase(migrated: false) { database in
            let client = PQClient(configuration: .init(connectionString: database.connectionString), logger: TestPostgres.logger)
            let rows = try await client.query("SELECT 1")
            #expect(rows.count == 1)
            await client.shutdown()
            let error = await #expect(throws: PQError.self) { try await client.query("SELECT 1") }
            #expect(error?.code == .poolClosed)
        }
    }

    static func terminate(pid: Int32, server: String) async throws {
        let admin = PQClient(configuration: .init(connectionString: server), logger: TestPostgres.logger)
        try await admin.execute("SELECT pg_terminate_backend(\(pid))")
        await admin.shutdown()
    }

    @Test func queriesArePreparedOnceUnlessPlannedEachTime() async throws {
        try await TestPostgres.withDatabase(migrated: false) { database in
            try await database.client.withConnection { connection in
                for value in 1...6 {
                    let prepared = try await connection.query("SELECT \(Int64(value)) + 1 AS kept")
                    #expect(try prepared[0].decode(Int64.self, at: 0) == Int64(value) + 1)
                    let unnamed = try await connection.query(PQQuery("SELECT \(Int64(value)) * 2 AS fresh").planEachTime())
                    #expect(try unnamed[0].decode(Int64.self, at: 0) == Int64(value) * 2)
                }
                let statements = try await connection.query("SELECT statement FROM pg_prepared_statements")
                let texts = try statements.map { try $0.decode(String.self, at: 0) }
                #expect(texts.filter { $0.contains("AS kept") }.count == 1)
                #expect(texts.filter { $0.contains("AS fresh") }.isEmpty)
            }
        }
    }
}
