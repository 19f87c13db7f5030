import Foundation
import Migrations
import PQ
import Testing
import TestSupport

/// A migration runs without the session's statement timeout, and the connection gets its timeout back afterwards.
@Suite struct MigrationTimeoutTests {
    @Test func aMigrationLongerThanTheStatementTimeoutIsApplied() async throws {
        try await TestPostgres.withDatabase(migrated: false) { database in
            var parts = try PQConnectionString.parse(database.connectionString)
            parts.append((key: "options", value: "-c statement_timeout=200ms"))
            var configuration = PQClient.Configuration(
                connectionString: parts.map { "\($0.key)='\($0.value)'" }.joined(separator: " "))
            configuration.maximumConnections = 1
            let client = PQClient(configuration: configuration, logger: TestPostgres.logger)
            let folder = try MigratorTests.makeFolder(["0001_slow.sql": "SELECT pg_sleep(0.6); CREATE TABLE slow (id int);"])
            do {
                let applied = try await Migrator(client: client, migrations: try MigrationSet.load(from: folder), logger: TestPostgres.logger)
                    .migrate()
                #expect(applied.map(\.version) == [1])
                let timeout = try await client.query("SHOW statement_timeout")[0].decode(String.self, at: 0)
                #expect(timeout == "200ms")
            } catch {
                await client.shutdown()
                throw error
            }
            await client.shutdown()
        }
    }
}
