import Foundation
@testable import PQ
import Testing
import TestSupport

/// Timeouts toward PostgreSQL: defaults for `statement_timeout`, `tcp_user_timeout` and TCP keepalives that the
/// connection string overrides, and a statement the server cancels for running too long is a retryable error.
@Suite struct PQTimeoutTests {
    @Test func defaultsApplyToEveryConnection() async throws {
        try await TestPostgres.withDatabase(migrated: false) { database in
            try await Self.withClient(database) { client in
                try await client.withConnection { connection in
                    let timeout = try await Self.statementTimeout(connection)
                    #expect(timeout == "30s")
                    let options = connection.connectionOptions()
                    #expect(options["tcp_user_timeout"] == "30000")
                    #expect(options["keepalives"] == "1")
                    #expect(options["keepalives_idle"] == "15")
                    #expect(options["keepalives_interval"] == "5")
                    #expect(options["keepalives_count"] == "3")
                    #expect(options["connect_timeout"] == "10")
                }
            }
            // Only keywords the linked libpq knows are passed (this one does know them all).
            #expect(PQClient.Configuration.libPQKeywords.isSuperset(of: ["tcp_user_timeout", "keepalives_idle", "connect_timeout"]))
        }
    }

    @Test func theConnectionStringWinsOverEveryDefault() async throws {
        try await TestPostgres.withDatabase(migrated: false) { database in
            let settings = [
                ("keepalives_idle", "42"), ("keepalives_interval", "7"), ("keepalives_count", "9"), ("tcp_user_timeout", "1234"),
                ("connect_timeout", "4"), ("options", "-c statement_timeout=250ms"),
            ]
            try await Self.withClient(database, adding: settings) { client in
                try await client.withConnection { connection in
                    let timeout = try await Self.statementTimeout(connection)
                    #expect(timeout == "250ms")
                    let options = connection.connectionOptions()
                    for (keyword, value) in settings where keyword != "options" { #expect(options[keyword] == value, "\(keyword)") }
                }
            }
        }
    }

    @Test func aDatabaseSettingWinsOverTheDefaultAndNilLeavesTheServers() async throws {
        try await TestPostgres.withDatabase(migrated: false) { database in
            try await database.client.execute("ALTER DATABASE \(identifier: database.name) SET statement_timeout = '45s'")
            try await Self.withClient(database) { client in
                let timeout = try await client.withConnection(Self.statementTimeout)
                #expect(timeout == "45s")
            }
            try await database.client.execute("ALTER DATABASE \(identifier: database.name) RESET statement_timeout")
            try await Self.withClient(database, configure: { $0.statementTimeout = nil }) { client in
                let timeout = try await client.withConnection(Self.statementTimeout)
                #expect(timeout == "0")
            }
        }
    }

    @Test func aStatementPastTheTimeoutIsARetryableErrorAndTheConnectionStaysUsable() async throws {
        try await TestPostgres.withDatabase(migrated: false) { database in
            try await Self.withClient(database, adding: [("options", "-c statement_timeout=200ms")]) { client in
                let began = ContinuousClock.now
                let error = try #require(
                    await #expect(throws: PQError.self) { try await client.execute("SELECT pg_sleep(30)", name: "sleep") })
                // Well before the statement's 30 s: the 200 ms timeout ended it (a busy machine, running the whole
                // suite, has taken 3.5 s).
                #expect(ContinuousClock.now - began < .seconds(15))
                #expect(error.code == .statementTimeout)
                #expect(error.sqlState == "57014")
                #expect(error.isRetryable)
                #expect(error.queryName == "sleep")
                #expect(!error.description.contains("statement timeout"))
                let one = try await client.query("SELECT 1")[0].decode(Int.self, at: 0)
                #expect(one == 1)
                #expect(client.statistics.open == 1)
            }
        }
    }

    @Test func longWorkRaisesTheTimeoutForATransactionOrAScopeOnly() async throws {
        try await TestPostgres.withDatabase(migrated: false) { database in
            try await Self.withClient(database, adding: [("options", "-c statement_timeout=200ms")]) { client in
                try await client.withTransaction(.init(statementTimeout: .zero)) { connection in
                    try await connection.execute("SELECT pg_sleep(0.5)")
                    let timeout = try await Self.statementTimeout(connection)
                    #expect(timeout == "0")
                }
                try await PQClient.withStatementTimeout(.seconds(5)) {
                    try await client.execute("SELECT pg_sleep(0.5)")
                    let timeout = try await client.withConnection(Self.statementTimeout)
                    #expect(timeout == "5s")
                }
                // Back to the session's value on the same (only) connection.
                #expect(client.statistics.open == 1)
                let timeout = try await client.withConnection(Self.statementTimeout)
                #expect(timeout == "200ms")
                await #expect(throws: PQError.self) { try await client.execute("SELECT pg_sleep(0.5)") }
            }
        }
    }

    @Test func cancellingTheTaskIsNotATimeout() async throws {
        try await TestPostgres.withDatabase(migrated: false) { database in
            let client = database.client
            let sleeper = Task { try await client.execute("SELECT pg_sleep(30)") }
            try await Task.sleep(for: .milliseconds(300))
            sleeper.cancel()
            let result = await sleeper.result
            #expect(throws: (any Error).self) { try result.get() }
            if case .failure(let error as PQError) = result {
                #expect(error.code == .queryCanceled)
                #expect(!error.isRetryable)
            }
        }
    }

    // MARK: - Helpers

    static func statementTimeout(_ connection: PQConnection) async throws -> String {
        try await connection.query("SHOW statement_timeout")[0].decode(String.self, at: 0)
    }

    /// A one-connection client on the test database, its connection string with `settings` added (as keywords).
    static func withClient(
        _ database: TestDatabase, adding settings: [(String, String)] = [], configure: (inout PQClient.Configuration) -> Void = { _ in },
        _ body: (PQClient) async throws -> Void
    ) async throws {
        var parts = try PQConnectionString.parse(database.connectionString)
        parts.removeAll { part in settings.contains { $0.0 == part.key } }
        parts.append(contentsOf: settings.map { (key: $0.0, value: $0.1) })
        let connectionString = parts.map { "\($0.key)='\($0.value.replacingOccurrences(of: "'", with: "\\'"))'" }.joined(separator: " ")
        var configuration = PQClient.Configuration(connectionString: connectionString)
        configuration.maximumConnections = 1
        configure(&configuration)
        let client = PQClient(configuration: configuration, logger: TestPostgres.logger)
        do {
            try await body(client)
        } catch {
            await client.shutdown()
            throw error
        }
        await client.shutdown()
    }
}
