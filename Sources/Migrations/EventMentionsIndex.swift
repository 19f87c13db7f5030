import Logging
import PQ

/// The index erasure finds a person's events by (`0022_event_mentions.sql`): a GIN index of
/// `hubsignal_event_mentions(payload)` on `events`, built without blocking ingestion.
///
/// The script creates the function and, on the partitioned log, the index on the parent only (invalid until every
/// partition has its own). The after step, on every `hubsignal migrate`, builds what is missing with
/// `CREATE INDEX CONCURRENTLY`: each partition's index, attached to the parent's (which becomes valid with the last
/// one), or, on the unpartitioned log, the whole index. An index a failed run left invalid is dropped and built again.
/// Partitions created later get the index with the parent; until the step is done, erasure still works, reading the
/// partitions that lack it.
public enum EventMentionsIndex {
    /// The migration this type completes.
    public static let migrationFile = "0022_event_mentions.sql"
    /// The index on `events` (on the partitioned log, the parent's).
    public static let indexName = "events_mentions"
    /// The suffix of the index built for a partition (`events_p0000000000001_mentions`).
    static let partitionIndexSuffix = "_mentions"
    /// What the index holds and how, as `CREATE INDEX` says it after the table's name (the script's is the same).
    static let definition = "USING gin (hubsignal_event_mentions(payload)) WITH (gin_pending_list_limit = 16384)"

    static var steps: [MigrationStep] {
        [
            MigrationStep(migrationFile: migrationFile, placement: .after, summary: "build the erasure index of the log") {
                try await build($0)
            }
        ]
    }

    /// Builds the index's missing parts, one partition at a time, each concurrently (appends go on); returns at once
    /// when nothing is missing. Runs outside any transaction (`CREATE INDEX CONCURRENTLY` cannot run in one).
    public static func build(_ context: MigrationContext) async throws {
        let client = context.client
        let partitioned = try await client.query(
            "SELECT relkind = 'p' FROM pg_class WHERE oid = 'events'::regclass", name: "mentions.layout")[0].decode(Bool.self, at: 0)
        guard partitioned else {
            try await buildConcurrently(indexName, on: "events", attachingTo: nil, context)
            return
        }
        try await client.execute(
            PQQuery(
                unsafeSQL: "CREATE INDEX IF NOT EXISTS \(quoted(indexName)) ON ONLY events \(definition)"),
            name: "mentions.parent")
        // A partition created meanwhile gets its index with the parent's: one pass finds every partition that lacks it.
        let missing = try await client.query(
            """
            SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'events'::regclass AND c.relkind = 'r'
              AND NOT EXISTS (SELECT FROM pg_inherits ii JOIN pg_index x ON x.indexrelid = ii.inhrelid
                              WHERE ii.inhparent = to_regclass(\(quoted(indexName))) AND x.indrelid = c.oid)
            ORDER BY c.relname
            """, name: "mentions.missing"
        ).map { try $0.decode(String.self, at: 0) }
        for partition in missing {
            try await buildConcurrently(partition + partitionIndexSuffix, on: partition, attachingTo: indexName, context)
        }
    }

    /// Builds `index` on `table` concurrently unless a valid one exists (an invalid one is dropped first), analyzes the
    /// table (the planner's estimates of the new expression) and attaches the index to `parent`'s.
    static func buildConcurrently(_ index: String, on table: String, attachingTo parent: String?, _ context: MigrationContext) async throws {
        let client = context.client
        let valid = try await client.query(
            "SELECT x.indisvalid FROM pg_index x WHERE x.indexrelid = to_regclass(\(quoted(index)))", name: "mentions.existing"
        ).first?.decode(Bool.self, at: 0)
        if valid == false {
            try await client.execute(PQQuery(unsafeSQL: "DROP INDEX CONCURRENTLY \(quoted(index))"), name: "mentions.drop_invalid")
        }
        if valid != true {
            let started = ContinuousClock.now
            try await client.execute(
                PQQuery(unsafeSQL: "CREATE INDEX CONCURRENTLY \(quoted(index)) ON \(quoted(table)) \(definition)"),
                name: "mentions.build")
            try await client.execute(PQQuery(unsafeSQL: "ANALYZE \(quoted(table))"), name: "mentions.analyze")
            context.logger.info(
                "built the erasure index", metadata: ["index.name": "\(index)", "index.duration": "\(ContinuousClock.now - started)"])
        }
        if let parent {
            try await client.execute(
                PQQuery(unsafeSQL: "ALTER INDEX \(quoted(parent)) ATTACH PARTITION \(quoted(index))"), name: "mentions.attach")
        }
    }

    /// `name` as a quoted SQL identifier (names come from the catalog or from this file).
    static func quoted(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
