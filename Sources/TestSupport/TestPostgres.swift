import EmbeddedPostgres
import EventStore
import Foundation
import Logging
import Migrations
import PQ

/// PostgreSQL for tests: the server named by `DATABASE_URL`, or else a private server started once per test process
/// (`initdb` + `postgres` on a free port, deleted when the process ends). Each test gets its own fresh database.
///
/// There is no silent skip: a test that needs PostgreSQL and cannot get it fails with the reason.
public enum TestPostgres {
    /// The connection string of the server's maintenance database.
    public static func serverConnectionString() async throws -> String {
        try await ServerHolder.shared.connectionString()
    }

    /// Creates a fresh database (migrated unless `migrated` is `false`), passes it to `body`, and drops it afterwards.
    ///
    /// With `DATABASE_URL`, its role needs the `CREATEDB` privilege.
    public static func withDatabase<T>(
        migrated: Bool = true, maximumConnections: Int = 8, _ body: (TestDatabase) async throws -> T
    ) async throws -> T {
        let server = try await serverConnectionString()
        let name = "hs_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        var adminConfiguration = PQClient.Configuration(connectionString: server)
        adminConfiguration.maximumConnections = 1
        let admin = PQClient(configuration: adminConfiguration, logger: TestPostgres.logger)
        try await admin.execute("CREATE DATABASE \(identifier: name)")
        let connectionString = try PQConnectionString.replacingDatabase(in: server, with: name)
        var configuration = PQClient.Configuration(connectionString: connectionString)
        configuration.maximumConnections = maximumConnections
        configuration.connectionWaitTimeout = .seconds(30)
        let client = PQClient(configuration: configuration, logger: logger)
        let database = TestDatabase(name: name, connectionString: connectionString, client: client)
        do {
            if migrated {
                try await Migrator(client: client, migrations: try migrations(), logger: logger).migrate()
            }
            let result = try await body(database)
            await client.shutdown()
            try await admin.execute("DROP DATABASE IF EXISTS \(identifier: name) WITH (FORCE)")
            await admin.shutdown()
            return result
        } catch {
            await client.shutdown()
            _ = try? await admin.execute("DROP DATABASE IF EXISTS \(identifier: name) WITH (FORCE)")
            await admin.shutdown()
            throw error
        }
    }

    /// Starts a PostgreSQL server of its own for `body` (durable: `synchronous_commit` on, so a crash of the server
    /// loses no committed transaction), with a migrated database, and stops and deletes it afterwards. For tests that
    /// restart or break the server, which the shared one cannot allow.
    public static func withPrivateServer<T>(
        maximumConnections: Int = 8, _ body: (EmbeddedPostgres, TestDatabase) async throws -> T
    ) async throws -> T {
        var configuration = EmbeddedPostgres.Configuration(isDurable: true)
        // The OS does not crash in these tests, only the server: fsync can stay off; commits are still flushed to
        // the kernel before they are acknowledged.
        configuration.settings["fsync"] = "off"
        configuration.settings["max_connections"] = "100"
        let server = try await EmbeddedPostgres.start(configuration, logger: logger)
        var clientConfiguration = PQClient.Configuration(connectionString: server.connectionString)
        clientConfiguration.maximumConnections = maximumConnections
        clientConfiguration.connectionWaitTimeout = .seconds(30)
        let client = PQClient(configuration: clientConfiguration, logger: logger)
        let database = TestDatabase(name: "hubsignal", connectionString: server.connectionString, client: client)
        do {
            try await Migrator(client: client, migrations: try migrations(), logger: logger).migrate()
            let result = try await body(server, database)
            await client.shutdown()
            await server.stop()
            return result
        } catch {
            await client.shutdown()
            await server.stop()
            throw error
        }
    }

    /// The repository's `migrations` folder.
    public static var migrationsDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../migrations").standardizedFileURL
    }

    /// The repository's migrations.
    public static func migrations() throws -> MigrationSet {
        try MigrationSet.load(from: migrationsDirectory)
    }

    /// A logger for tests: quiet unless `HUBSIGNAL_TEST_LOG_LEVEL` says otherwise.
    public static var logger: Logger {
        var logger = Logger(label: "hubsignal.test", factory: { StreamLogHandler.standardError(label: $0) })
        logger.logLevel = ProcessInfo.processInfo.environment["HUBSIGNAL_TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
        return logger
    }
}

/// A throwaway database for one test.
public struct TestDatabase: Sendable {
    /// The database's name.
    public let name: String
    /// A libpq connection string for it.
    public let connectionString: String
    /// A pooled client connected to it.
    public let client: PQClient

    /// An event store on this database.
    public func makeEventStore() -> EventStore {
        EventStore(client: client, logger: TestPostgres.logger)
    }
}

/// Starts the private server at most once per process.
actor ServerHolder {
    static let shared = ServerHolder()
    private var starting: Task<String, any Error>?
    private var server: EmbeddedPostgres?

    func connectionString() async throws -> String {
        if let url = ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty {
            return url
        }
        if let starting { return try await starting.value }
        let task = Task<String, any Error> {
            var configuration = EmbeddedPostgres.Configuration(isDurable: false)
            configuration.settings["max_connections"] = "1000"
            do {
                let server = try await EmbeddedPostgres.start(configuration, logger: TestPostgres.logger)
                self.keep(server)
                return server.connectionString
            } catch {
                throw TestPostgresError(
                    "tests need PostgreSQL: set DATABASE_URL, or install the server so the tests can start their own "
                        + "(apt-get install postgresql). Starting it failed: \(error)")
            }
        }
        starting = task
        return try await task.value
    }

    private func keep(_ server: EmbeddedPostgres) {
        // Held for the life of the process; the supervisor stops the server when the process exits.
        self.server = server
    }
}

/// Why the tests could not get PostgreSQL.
public struct TestPostgresError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
