import Logging
import PQ

/// Work a migration needs outside its own transaction: before its script runs (preparing a big table while the
/// service keeps writing to it), or after (building indexes concurrently, creating partitions ahead).
///
/// A step is idempotent and resumable: `hubsignal migrate` runs a `before` step each time its migration is pending
/// (an interrupted preparation continues where it stopped), and an `after` step on every run once its migration is
/// applied (it returns at once when there is nothing left to do). Steps run while the migrator holds its lock, on
/// connections of their own, without a statement timeout.
public struct MigrationStep: Sendable {
    /// When the step runs, relative to its migration's script.
    public enum Placement: Sendable, Hashable { case before, after }

    /// The file name of the migration the step belongs to (`0021_partitioned_events.sql`).
    public var migrationFile: String
    public var placement: Placement
    /// What the step does, for logs.
    public var summary: String
    /// The step's work.
    public var run: @Sendable (_ context: MigrationContext) async throws -> Void

    public init(
        migrationFile: String, placement: Placement, summary: String,
        run: @escaping @Sendable (_ context: MigrationContext) async throws -> Void
    ) {
        self.migrationFile = migrationFile
        self.placement = placement
        self.summary = summary
        self.run = run
    }

    /// The steps of this build's migrations.
    public static var all: [MigrationStep] { EventLogPartitioning.steps + EventMentionsIndex.steps }
}

/// What a migration step works with.
public struct MigrationContext: Sendable {
    /// The database's pool (the step opens its own connections and transactions).
    public var client: PQClient
    public var logger: Logger
    public var options: MigrationOptions
}

/// Settings `hubsignal migrate` applies to the schema.
public struct MigrationOptions: Sendable, Hashable {
    /// Events per partition of the log (`HUBSIGNAL_EVENT_PARTITION_SIZE`); `nil` keeps the database's setting (or the
    /// default, 10,000,000, on the first migration). Applies to partitions created from now on.
    public var eventPartitionSize: Int64?
    /// How many keys the online preparation of the partitioned log copies per transaction.
    public var keyCopyBatch: Int64

    public init(eventPartitionSize: Int64? = nil, keyCopyBatch: Int64 = 100_000) {
        self.eventPartitionSize = eventPartitionSize
        self.keyCopyBatch = keyCopyBatch
    }
}
