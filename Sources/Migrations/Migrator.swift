import Foundation
import Logging
import PQ

/// Applies `migrations/NNNN_name.sql` files in order, each in its own transaction, and records them with their
/// checksum in `hubsignal_migrations`.
///
/// Several processes may migrate at once: a session-level advisory lock makes them take turns, and the later ones
/// find nothing left to do. A migration may have steps that run outside its transaction (``MigrationStep``): before
/// it, to prepare a big table while the service writes to it, or after it. An applied migration whose file was edited
/// afterwards stops everything with `MigrationError.Code.modifiedMigration`.
public struct Migrator: Sendable {
    /// The lowest PostgreSQL version HubSignal supports (`pg_current_xact_id`, `xid8`: PostgreSQL 13).
    public static let minimumServerVersion = 130_000
    /// The advisory lock key that serializes migrations (per database).
    static let lockKey: Int64 = 0x4855_4253_4947_4E01

    let client: PQClient
    /// The migrations this build knows.
    public let migrations: MigrationSet
    let logger: Logger
    let options: MigrationOptions
    let steps: [MigrationStep]

    /// A migrator of `client`'s database to `migrations`; it connects when a method runs.
    ///
    /// - Parameters:
    ///   - options: settings the migrations apply (the log's partition size).
    ///   - steps: the steps run outside the migrations' transactions; by default this build's (``MigrationStep/all``).
    public init(
        client: PQClient, migrations: MigrationSet, logger: Logger, options: MigrationOptions = MigrationOptions(),
        steps: [MigrationStep] = MigrationStep.all
    ) {
        self.client = client
        self.migrations = migrations
        self.logger = logger
        self.options = options
        self.steps = steps
    }

    /// A migration recorded as applied.
    public struct AppliedMigration: Sendable, Hashable {
        /// The migration's number.
        public var version: Int
        /// The migration's name (the file name without number and extension).
        public var name: String
        /// The script's checksum when it was applied.
        public var checksum: String
        /// When it was applied.
        public var appliedAt: Date
    }

    /// How the database compares with this build's migrations.
    public struct Status: Sendable {
        /// Migrations recorded in the database.
        public var applied: [AppliedMigration]
        /// This build's migrations the database lacks.
        public var pending: [Migration]
        /// Applied migrations whose file changed since.
        public var modified: [Migration]
        /// Applied migrations this build does not know (a newer build migrated the database).
        public var unknown: [AppliedMigration]

        /// The newest applied version, or 0.
        public var currentVersion: Int { applied.map(\.version).max() ?? 0 }
        /// Whether nothing is pending or modified.
        public var isUpToDate: Bool { pending.isEmpty && modified.isEmpty }
    }

    /// Compares the database with this build's migrations without changing anything.
    public func status() async throws -> Status {
        try await client.withConnection { connection in
            try await status(on: connection)
        }
    }

    /// Throws `behind` (saying which command to run) or `modifiedMigration` unless the database is up to date. Pending
    /// online migrations (``Migration/isOnline``) are allowed: this build runs before and after them.
    public func checkUpToDate() async throws {
        let status = try await status()
        try Self.check(modified: status.modified)
        let online = status.pending.filter(\.isOnline)
        if !online.isEmpty && online.count == status.pending.count {
            logger.warning(
                "online migrations are pending: the service runs meanwhile; run `hubsignal migrate` to apply them",
                metadata: ["migrations.pending": "\(online.map(\.fileName))"])
        } else if !status.pending.isEmpty {
            throw MigrationError(
                .behind,
                "the database is at schema version \(status.currentVersion) but this build needs \(migrations.latestVersion) "
                    + "(pending: \(status.pending.map(\.fileName).joined(separator: ", "))): run `hubsignal migrate` first")
        }
        if !status.unknown.isEmpty {
            logger.info(
                "the database has migrations this build does not know; a newer build migrated it",
                metadata: ["migrations.unknown": "\(status.unknown.map(\.version))"])
        }
    }

    /// Applies every pending migration and returns the ones applied now, without a statement timeout (a migration,
    /// or the wait for another process's, takes as long as it takes).
    @discardableResult
    public func migrate() async throws -> [Migration] {
        try await PQClient.withStatementTimeout(.zero) { try await migrateAlone() }
    }

    private func migrateAlone() async throws -> [Migration] {
        try await client.withConnection { connection in
            try await checkServerVersion(connection)
            try await connection.execute("SELECT pg_advisory_lock(\(Self.lockKey))")
            do {
                let applied = try await applyPending(on: connection)
                try await connection.execute("SELECT pg_advisory_unlock(\(Self.lockKey))")
                return applied
            } catch {
                _ = try? await connection.execute("SELECT pg_advisory_unlock(\(Self.lockKey))")
                throw error
            }
        }
    }

    private func applyPending(on connection: PQConnection) async throws -> [Migration] {
        try await connection.simpleQuery(
            unsafeSQL: """
                CREATE TABLE IF NOT EXISTS hubsignal_migrations (
                    version     integer     PRIMARY KEY,
                    name        text        NOT NULL,
                    checksum    text        NOT NULL,
                    applied_at  timestamptz NOT NULL DEFAULT now(),
                    duration_ms integer     NOT NULL
                )
                """, name: "create hubsignal_migrations")
        let status = try await status(on: connection)
        try Self.check(modified: status.modified)
        let newestApplied = status.currentVersion
        if let stray = status.pending.first(where: { $0.version < newestApplied }) {
            throw MigrationError(
                .invalidFolder,
                "\(stray.fileName) is older than the newest applied migration (version \(newestApplied)) but was never applied: "
                    + "give it a number above \(newestApplied)")
        }
        var appliedNow: [Migration] = []
        let context = MigrationContext(client: client, logger: logger, options: options)
        for migration in status.pending {
            for step in steps where step.migrationFile == migration.fileName && step.placement == .before {
                try await run(step, context: context)
            }
            let started = ContinuousClock.now
            do {
                try await connection.withTransaction { connection in
                    try await connection.simpleQuery(unsafeSQL: migration.sql, name: migration.fileName)
                    let elapsed = ContinuousClock.now - started
                    let milliseconds = Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
                    try await connection.execute(
                        """
                        INSERT INTO hubsignal_migrations (version, name, checksum, duration_ms)
                        VALUES (\(migration.version), \(migration.name), \(migration.checksum), \(milliseconds))
                        """)
                }
            } catch let error as PQError {
                throw MigrationError(
                    .failed,
                    "migration \(migration.fileName) failed and was rolled back: \(error.message)"
                        + (error.detail.map { " (\($0))" } ?? "") + "; fix it and run `hubsignal migrate` again",
                    underlying: error)
            }
            logger.info("applied migration", metadata: ["migration.file": "\(migration.fileName)"])
            appliedNow.append(migration)
        }
        for migration in migrations.migrations {
            for step in steps where step.migrationFile == migration.fileName && step.placement == .after {
                try await run(step, context: context)
            }
        }
        return appliedNow
    }

    private func run(_ step: MigrationStep, context: MigrationContext) async throws {
        do {
            try await step.run(context)
        } catch let error as MigrationError {
            throw error
        } catch {
            throw MigrationError(
                .failed,
                "the step \"\(step.summary)\" of \(step.migrationFile) failed: \(error); what it did so far is kept, "
                    + "run `hubsignal migrate` again to continue", underlying: error)
        }
    }

    private func status(on connection: PQConnection) async throws -> Status {
        let exists = try await connection.query("SELECT to_regclass('hubsignal_migrations') IS NOT NULL")
        var applied: [AppliedMigration] = []
        if try exists[0].decode(Bool.self, at: 0) {
            for row in try await connection.query("SELECT version, name, checksum, applied_at FROM hubsignal_migrations ORDER BY version") {
                let (version, name, checksum, appliedAt) = try row.decode((Int, String, String, Date).self)
                applied.append(AppliedMigration(version: version, name: name, checksum: checksum, appliedAt: appliedAt))
            }
        }
        let appliedByVersion = Dictionary(uniqueKeysWithValues: applied.map { ($0.version, $0) })
        let known = Set(migrations.migrations.map(\.version))
        return Status(
            applied: applied,
            pending: migrations.migrations.filter { appliedByVersion[$0.version] == nil },
            modified: migrations.migrations.filter { migration in
                appliedByVersion[migration.version].map { $0.checksum != migration.checksum } ?? false
            },
            unknown: applied.filter { !known.contains($0.version) })
    }

    private static func check(modified: [Migration]) throws {
        guard let first = modified.first else { return }
        throw MigrationError(
            .modifiedMigration,
            "migration \(first.fileName) was edited after it was applied (its checksum no longer matches the database's record): "
                + "restore the file as it was and put the change in a new migration")
    }

    private func checkServerVersion(_ connection: PQConnection) async throws {
        guard connection.serverVersion >= Self.minimumServerVersion else {
            throw MigrationError(
                .unsupportedServer,
                "HubSignal needs PostgreSQL 13 or later; this server is version \(connection.serverVersion / 10_000)")
        }
    }
}
