import App
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Migrations
import NIOCore
import Prometheus
import Testing
import TestSupport

@Suite struct AppTests {
    @Test func healthAndReadinessFollowTheSchema() async throws {
        try await TestPostgres.withDatabase(migrated: false) { database in
            let configuration = AppConfiguration(databaseURL: database.connectionString)
            let migrations = try TestPostgres.migrations()
            let application = HubSignalService.makeAdminApplication(
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

    /// `/metrics` and `/readyz` (two queries per call, migration names) are on the admin listener only; the public one
    /// keeps `/healthz`, which queries nothing.
    @Test func operationsEndpointsAreOnTheAdminListenerOnly() async throws {
        try await TestPostgres.withDatabase { database in
            var configuration = AppConfiguration(databaseURL: database.connectionString)
            configuration.port = 0
            configuration.adminPort = 0
            let migrations = try TestPostgres.migrations()
            let registry = PrometheusCollectorRegistry()
            registry.makeCounter(
                descriptor: MetricNameDescriptor(namespace: "hubsignal", metricName: "admin_test", unitName: "total", helpText: "")
            ).increment()
            let publicListener = HubSignalService.makeApplication(
                configuration: configuration, client: database.client, logger: TestPostgres.logger)
            try await publicListener.test(.live) { client in
                for path in ["/metrics", "/readyz"] {
                    try await client.execute(uri: path, method: .get) { response in
                        #expect(response.status == .notFound, "\(path) on the public listener")
                        #expect(!String(buffer: response.body).contains("hubsignal_"))
                    }
                }
                try await client.execute(uri: "/healthz", method: .get) { response in #expect(response.status == .ok) }
            }
            let adminListener = HubSignalService.makeAdminApplication(
                configuration: configuration, client: database.client, migrations: migrations, logger: TestPostgres.logger, metrics: registry)
            try await adminListener.test(.live) { client in
                try await client.execute(uri: "/metrics", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(String(buffer: response.body).contains("hubsignal_admin_test_total 1"))
                }
                try await client.execute(uri: "/readyz", method: .get) { response in #expect(response.status == .ok) }
                try await client.execute(uri: "/healthz", method: .get) { response in #expect(response.status == .ok) }
                // Ingestion is not served here.
                try await client.execute(uri: "/v1/track", method: .post, body: ByteBuffer(string: "{}")) { response in
                    #expect(response.status == .notFound)
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
        let admin = try AppConfiguration.fromEnvironment([
            "DATABASE_URL": "postgresql://db/hubsignal", "HUBSIGNAL_ADMIN_HOST": "0.0.0.0", "HUBSIGNAL_ADMIN_PORT": "9100",
        ])
        #expect(admin.adminHost == "0.0.0.0")
        #expect(admin.adminPort == 9100)

        let defaults = try AppConfiguration.fromEnvironment(["DATABASE_URL": "postgresql://db/hubsignal"])
        #expect(defaults.port == 8080)
        #expect(defaults.host == "127.0.0.1")
        #expect(defaults.logLevel == .info)
        #expect(defaults.adminHost == "127.0.0.1")
        #expect(defaults.adminPort == 9090)

        let missing = #expect(throws: ConfigurationError.self) { try AppConfiguration.fromEnvironment([:]) }
        #expect(missing?.description.contains("DATABASE_URL") == true)
        let badPort = #expect(throws: ConfigurationError.self) {
            try AppConfiguration.fromEnvironment(["DATABASE_URL": "x", "HUBSIGNAL_PORT": "eighty"])
        }
        #expect(badPort?.description.contains("HUBSIGNAL_PORT") == true)
        let badAdminPort = #expect(throws: ConfigurationError.self) {
            try AppConfiguration.fromEnvironment(["DATABASE_URL": "x", "HUBSIGNAL_ADMIN_PORT": "70000"])
        }
        #expect(badAdminPort?.description.contains("HUBSIGNAL_ADMIN_PORT") == true)
        #expect(throws: ConfigurationError.self) {
            try AppConfiguration.fromEnvironment(["DATABASE_URL": "x", "HUBSIGNAL_LOG_FORMAT": "xml"])
        }
    }
}
