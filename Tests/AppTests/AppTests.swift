import App
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Migrations
import Testing
import TestSupport

@Suite struct AppTests {
    @Test func healthAndReadinessFollowTheSchema() async throws {
        try await TestPostgres.withDatabase(migrated: false) { database in
            let configuration = AppConfiguration(databaseURL: database.connectionString)
            let migrations = try TestPostgres.migrations()
            let application = HubSignalService.makeApplication(
                configuration: configuration, client: database.client, migrations: migrations, logger: TestPostgres.logger)
            try await application.test(.router) { client in
                try await client.execute(uri: "/healthz", method: .get) { response in
                    #expect(response.status == .ok)
                }
                try await client.execute(uri: "/readyz", method: .get) { response in
                    #expect(response.status == .serviceUnavailable)
                    #expect(String(buffer: response.body).contains("schema_behind"))
                    #expect(String(buffer: response.body).contains("hubsignal migrate"))
                }
                try await Migrator(client: database.client, migrations: migrations, logger: TestPostgres.logger).migrate()
                try await client.execute(uri: "/readyz", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(String(buffer: response.body).contains("ready"))
                }
            }
        }
    }

    @Test func serveRefusesADatabaseThatIsBehind() async throws {
        try await TestPostgres.withDatabase(migrated: false) { database in
            var configuration = AppConfiguration(databaseURL: database.connectionString)
            configuration.migrationsDirectory = TestPostgres.migrationsDirectory.path
            configuration.port = 0
            let error = await #expect(throws: MigrationError.self) {
                try await HubSignalService.serve(configuration, logger: TestPostgres.logger)
            }
            #expect(error?.code == .behind)
            #expect(error?.message.contains("run `hubsignal migrate`") == true)
        }
    }

    @Test func configurationComesFromTheEnvironmentWithClearErrors() throws {
        let configuration = try AppConfiguration.fromEnvironment([
            "DATABASE_URL": "postgresql://db/hubsignal", "HUBSIGNAL_PORT": "9000", "HUBSIGNAL_HOST": "0.0.0.0",
            "HUBSIGNAL_LOG_LEVEL": "DEBUG", "HUBSIGNAL_LOG_FORMAT": "json", "HUBSIGNAL_DB_MAX_CONNECTIONS": "4",
        ])
        #expect(configuration.port == 9000)
        #expect(configuration.host == "0.0.0.0")
        #expect(configuration.logLevel == .debug)
        #expect(configuration.logFormat == .json)
        #expect(configuration.databaseMaximumConnections == 4)

        let defaults = try AppConfiguration.fromEnvironment(["DATABASE_URL": "postgresql://db/hubsignal"])
        #expect(defaults.port == 8080)
        #expect(defaults.host == "127.0.0.1")
        #expect(defaults.logLevel == .info)

        let missing = #expect(throws: ConfigurationError.self) { try AppConfiguration.fromEnvironment([:]) }
        #expect(missing?.description.contains("DATABASE_URL") == true)
        let badPort = #expect(throws: ConfigurationError.self) {
            try AppConfiguration.fromEnvironment(["DATABASE_URL": "x", "HUBSIGNAL_PORT": "eighty"])
        }
        #expect(badPort?.description.contains("HUBSIGNAL_PORT") == true)
        #expect(throws: ConfigurationError.self) {
            try AppConfiguration.fromEnvironment(["DATABASE_URL": "x", "HUBSIGNAL_LOG_FORMAT": "xml"])
        }
    }
}
