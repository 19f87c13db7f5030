import Foundation
import Migrations
import PQ
import Synchronization
import Testing
import TestSupport

@Suite struct MigratorTests {
    /// A temporary migrations folder holding `files` (name → SQL).
    static func makeFolder(_ files: [String: String]) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hubsignal-migrations-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (name, sql) in files {
            try sql.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        return folder
    }

    static let twoMigrations = [
        "0001_first.sql": "CREATE TABLE first (id int);",
        "0002_second.sql": "CREATE TABLE second (id int); INSERT INTO second VALUES (1);",
        "README.txt": "not a migration",
    ]

    @Test func appliesInOrderOnceAndRecordsChecksums() async throws {
        try await TestPostgres.withDatabase(migrated: false) { database in
            let set = try MigrationSet.load(from: try Self.makeFolder(Self.twoMigrations))
            let migrator = Migrator(client: database.client, migrations: set, logger: TestPostgres.logger)
            #expect(try await migrator.migrate().map(\.version) == [1, 2])
            #expect(try await migrator.migrate().isEmpty)
            let status = try await migrator.status()
            #expect(status.isUpToDate)
            #expect(status.currentVersion == 2)
            #expect(status.applied.map(\.checksum) == set.migrations.map(\.checksum))
            try await migrator.checkUpToDate()
        }
    }

    @Test func theRepositoryMigrationsApplyCleanly() async throws {
        try await TestPostgres.withDatabase(migrated: false) { database in
            let migrator = Migrator(client: database.client, migrations: try TestPostgres.migrations(), logger: TestPostgres.logger)
            let applied = try await migrator.migrate()
            #expect(applied.first?.fileName == "0001_event_log.sql")
            try await migrator.checkUpToDate()
        }
    }

    @Test func concurrentMigratorsTakeTurns() async throws {
        try await TestPostgres.withDatabase(migrated: false) { database in
            let set = try MigrationSet.load(from: try Self.makeFolder(Self.twoMigrations))
            let applied = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        let client = PQClient(configuration: .init(connectionString: database.connectionString), logger: TestPostgres.logger)
                        do {
                            let applied = try await Migrator(client: client, migrations: set, logger: TestPostgres.logger).migrate().count
                            await client.shutdown()
                            return applied
                        } catch {
                            await client.shutdown()
                            throw error
                        }
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(applied == 2)
            let rows = try await database.client.query("SELECT count(*) FROM second")
            #expect(try rows[0].decode(Int.self, at: 0) == 1)
        }
    }

    @Test func anEditedMigrationStopsEverything() async throws {
        try await TestPostgres.withDatabase(migrated: false) { database in
            var files = Self.twoMigrations
            try await Migrator(
                client: database.client, migrations: try MigrationSet.load(from: try Self.makeFolder(files)), logger: TestPostgres.logger
            ).migrate()
            files["0001_first.sql"] = "CREATE TABLE first (id bigint);"
            files["0003_third.sql"] = "CREATE TABLE third (id int);"
            let edited = Migrator(
                client: database.client, migrations: try MigrationSet.load(from: try Self.makeFolder(files)), logger: TestPostgres.logger)
            let error = await #expect(throws: MigrationError.self) { try await edited.migrate() }
            #expect(error?.code == .modifiedMigration)
            #expect(error?.message.contains("0001_first.sql") == true)
            let check = await #expect(throws: MigrationError.self) { try await edited.checkUpToDate() }
            #expect(check?.code == .modifiedMigration)
            let third = try await database.client.query("SELECT to_regclass('third') IS NULL")
            #expect(try third[0].decode(Bool.self, at: 0))
        }
    }

    @Test func aDatabaseThatIsBehindSaysWhatToRun() async throws {
        try await TestPostgres.withDatabase(migrated: false) { database in
            let migrator = Migrator(
                client: database.client, migrations: try MigrationSet.load(from: try Self.makeFolder(Self.twoMigrations)),
                logger: TestPostgres.logger)
            let error = await #expect(throws: MigrationError.self) { try await migrator.checkUpToDate() }
            #expect(error?.code == .behind)
            #expect(error?.message.contains("hubsignal migrate") == true)
        }
    }

    /// A pending online migration does not hold the service back, a pending ordinary one does; a step runs outside its
    /// migration's transaction, before it (only while it is pending) or after it (on every run).
    @Test func onlineMigrationsMayBePendingAndStepsRunAroundTheirMigration() async throws {
        final class Calls: Sendable { let log = Mutex<[String]>([]) }
        try await TestPostgres.withDatabase(migrated: false) { database in
            let folder = try Self.makeFolder([
                "0001_first.sql": "CREATE TABLE first (id int);",
                "0002_online.sql": "-- hubsignal: online\nCREATE TABLE online (id int);",
            ])
            let calls = Calls()
            let steps = [
                MigrationStep(migrationFile: "0002_online.sql", placement: .before, summary: "before") { context in
                    let exists = try await context.client.query("SELECT to_regclass('online') IS NOT NULL")[0].decode(Bool.self, at: 0)
                    calls.log.withLock { $0.append("before:\(exists)") }
                },
                MigrationStep(migrationFile: "0002_online.sql", placement: .after, summary: "after") { context in
                    let exists = try await context.client.query("SELECT to_regclass('online') IS NOT NULL")[0].decode(Bool.self, at: 0)
                    calls.log.withLock { $0.append("after:\(exists)") }
                },
            ]
            let set = try MigrationSet.load(from: folder)
            #expect(set.migrations.map(\.isOnline) == [false, true])
            let first = Migrator(
                client: database.client, migrations: try MigrationSet(Array(set.migrations.prefix(1))), logger: TestPostgres.logger, steps: steps)
            try await first.migrate()
            let migrator = Migrator(client: database.client, migrations: set, logger: TestPostgres.logger, steps: steps)
            try await migrator.checkUpToDate()  // only the online one is pending
            #expect(calls.log.withLock { $0 }.isEmpty)
            #expect(try await migrator.migrate().map(\.version) == [2])
            #expect(try await migrator.migrate().isEmpty)
            #expect(calls.log.withLock { $0 } == ["before:false", "after:true", "after:true"])

            // A failing step stops the migration before its script, saying what to run.
            let failing = MigrationStep(migrationFile: "0003_more.sql", placement: .before, summary: "prepare more") { _ in
                throw CancellationError()
            }
            let more = try Self.makeFolder([
                "0001_first.sql": "CREATE TABLE first (id int);", "0002_online.sql": "-- hubsignal: online\nCREATE TABLE online (id int);",
                "0003_more.sql": "CREATE TABLE more (id int);",
            ])
            let blocked = Migrator(
                client: database.client, migrations: try MigrationSet.load(from: more), logger: TestPostgres.logger, steps: [failing])
            let behind = await #expect(throws: MigrationError.self) { try await blocked.checkUpToDate() }
            #expect(behind?.code == .behind)
            let error = await #expect(throws: MigrationError.self) { try await blocked.migrate() }
            #expect(error?.message.contains("prepare more") == true && error?.message.contains("hubsignal migrate") == true)
            #expect(try await database.client.query("SELECT to_regclass('more') IS NULL")[0].decode(Bool.self, at: 0))
        }
    }

    @Test func aFailingMigrationIsRolledBackWhole() async throws {
        try await TestPostgres.withDatabase(migrated: false) { database in
            let folder = try Self.makeFolder([
                "0001_first.sql": "CREATE TABLE first (id int);",
                "0002_broken.sql": "CREATE TABLE half (id int); SELECT * FROM no_such_table;",
            ])
            let migrator = Migrator(client: database.client, migrations: try MigrationSet.load(from: folder), logger: TestPostgres.logger)
            let error = await #expect(throws: MigrationError.self) { try await migrator.migrate() }
            #expect(error?.code == .failed)
            #expect(error?.message.contains("0002_broken.sql") == true)
            let status = try await migrator.status()
            #expect(status.currentVersion == 1)
            let half = try await database.client.query("SELECT to_regclass('half') IS NULL")
            #expect(try half[0].decode(Bool.self, at: 0))
        }
    }

    @Test func badlyNamedFilesAreRefused() throws {
        let folder = try Self.makeFolder(["1_first.sql": "SELECT 1;"])
        let error = #expect(throws: MigrationError.self) { try MigrationSet.load(from: folder) }
        #expect(error?.code == .invalidFolder)
        let duplicate = try Self.makeFolder(["0001_a.sql": "SELECT 1;", "0001_b.sql": "SELECT 2;"])
        #expect(throws: MigrationError.self) { try MigrationSet.load(from: duplicate) }
    }

    @Test func checksumsIgnoreLineEndings() {
        #expect(Migration.checksum(of: "SELECT 1;\r\nSELECT 2;\r\n") == Migration.checksum(of: "SELECT 1;\nSELECT 2;\n"))
        #expect(Migration.checksum(of: "SELECT 1;") != Migration.checksum(of: "SELECT 2;"))
    }
}
