import EmbeddedPostgres
import Foundation
import Migrations
import PQ

extension TestPostgres {
    /// Starts a primary with a synchronous standby of its own for `body` (see `ReplicatedPostgres`), with a migrated
    /// database, and stops and deletes both afterwards. For failover tests.
    ///
    /// The database's `connectionString` and `client` name both servers (`target_session_attrs=read-write`), so they
    /// follow a promotion of the standby as a service configured that way does.
    public static func withReplicatedServers<T>(
        maximumConnections: Int = 8, _ body: (ReplicatedPostgres, TestDatabase) async throws -> T
    ) async throws -> T {
        var configuration = EmbeddedPostgres.Configuration(isDurable: true)
        // Only the server is killed in these tests, never the OS: fsync can stay off; a commit still waits until the
        // standby has it.
        configuration.settings["fsync"] = "off"
        configuration.settings["max_connections"] = "100"
        let servers = try await ReplicatedPostgres.start(configuration, logger: logger)
        var clientConfiguration = PQClient.Configuration(connectionString: servers.connectionString)
        clientConfiguration.maximumConnections = maximumConnections
        clientConfiguration.connectionWaitTimeout = .seconds(30)
        let client = PQClient(configuration: clientConfiguration, logger: logger)
        let database = TestDatabase(name: servers.database, connectionString: servers.connectionString, client: client)
        do {
            try await Migrator(client: client, migrations: try migrations(), logger: logger).migrate()
            let result = try await body(servers, database)
            await client.shutdown()
            await servers.stop()
            return result
        } catch {
            await client.shutdown()
            await servers.stop()
            throw error
        }
    }
}
