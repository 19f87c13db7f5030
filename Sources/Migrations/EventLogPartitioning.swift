import Logging
import PQ

/// The partitioned event log (`0021_partitioned_events.sql`): its names, and the steps that let an existing log
/// migrate while the service keeps appending.
///
/// Before the script: `event_keys` is filled in batches from the existing log while a statement trigger copies the
/// keys of new events, and a CHECK constraint on the existing table's position range is validated (a scan that lets
/// appends go on), so that the script's switch attaches the table as the first partition without scanning it. After
/// it, on every `hubsignal migrate`: the configured partition size is applied and partitions are created ahead.
public enum EventLogPartitioning {
    /// The migration this type prepares.
    public static let migrationFile = "0021_partitioned_events.sql"
    /// Events per partition unless `HUBSIGNAL_EVENT_PARTITION_SIZE` says otherwise.
    public static let defaultPartitionSize: Int64 = 10_000_000
    /// The smallest partition size accepted (tests use small ones; production ones are millions).
    public static let minimumPartitionSize: Int64 = 1_000
    /// How many partitions exist ahead of the head.
    public static let partitionsAhead = 2

    /// The name of the partition whose range starts at `position`: `events_p` and 13 digits.
    public static func partitionName(startingAt position: Int64) -> String {
        let digits = String(position)
        return "events_p" + String(repeating: "0", count: max(0, 13 - digits.count)) + digits
    }

    static var steps: [MigrationStep] {
        [
            MigrationStep(migrationFile: migrationFile, placement: .before, summary: "prepare the partitioned event log") {
                try await prepare($0)
            },
            MigrationStep(migrationFile: migrationFile, placement: .after, summary: "create the log's partitions ahead") {
                try await maintain($0)
            },
        ]
    }

    // MARK: - Before the switch

    static func prepare(_ context: MigrationContext) async throws {
        let client = context.client
        try await client.withTransaction { connection in
            try await connection.simpleQuery(unsafeSQL: setUpSQL, name: "prepare partitioned events")
            try await applyPartitionSize(context.options.eventPartitionSize, on: connection)
        }
        // Every event appended from here on has its key copied by the trigger; those before it, by the batches.
        let target = try await client.query(
            "SELECT COALESCE(max(position), 0) FROM events", name: "prepare.head")[0].decode(Int64.self, at: 0)
        try await client.execute(
            """
            UPDATE event_log_settings
            SET keys_copy_target = GREATEST(COALESCE(keys_copy_target, 0), \(target)),
                keys_copied_through = COALESCE(keys_copied_through, 0)
            """, name: "prepare.target")
        var copiedThrough = try await client.query(
            "SELECT keys_copied_through FROM event_log_settings", name: "prepare.progress")[0].decode(Int64.self, at: 0)
        let batch = max(1, context.options.keyCopyBatch)
        while copiedThrough < target {
            let until = min(target, copiedThrough + batch)
            try await client.withTransaction { connection in
                try await connection.execute(
                    """
                    INSERT INTO event_keys (source, idempotency_key, position)
                    SELECT source, idempotency_key, position FROM events
                    WHERE position > \(copiedThrough) AND position <= \(until)
                    ON CONFLICT (source, idempotency_key) DO NOTHING
                    """, name: "prepare.copy_keys")
                try await connection.execute(
                    "UPDATE event_log_settings SET keys_copied_through = \(until)", name: "prepare.copied")
            }
            copiedThrough = until
            context.logger.info(
                "copied the log's idempotency keys", metadata: ["keys.through": "\(until)", "keys.target": "\(target)"])
        }
        try await prepareFirstPartition(context)
    }

    /// Validates `position >= 1 AND position < bound` on the existing table, with room above the head for the appends
    /// that happen before the switch (a partition's size, at least a million positions; an empty log's first partition
    /// is an ordinary one).
    static func prepareFirstPartition(_ context: MigrationContext) async throws {
        let client = context.client
        let rows = try await client.query(
            """
            SELECT s.partition_size, s.first_partition_end, (SELECT COALESCE(max(position), 0) FROM events),
                   EXISTS (SELECT FROM pg_constraint WHERE conrelid = 'events'::regclass
                           AND conname = 'events_first_partition_range' AND convalidated)
            FROM event_log_settings s
            """, name: "prepare.bound")
        let (size, prepared, head, validated) = try rows[0].decode((Int64, Int64?, Int64, Bool).self)
        let room = head == 0 ? 0 : max(size, 1_000_000)
        if let prepared, validated, prepared > head + room / 2 { return }
        let bound = ((head + room) / size + 1) * size + 1
        try await client.withTransaction { connection in
            try await connection.execute(
                "ALTER TABLE events DROP CONSTRAINT IF EXISTS events_first_partition_range", name: "prepare.drop_range")
            try await connection.execute(
                PQQuery(
                    unsafeSQL: "ALTER TABLE events ADD CONSTRAINT events_first_partition_range "
                        + "CHECK (position >= 1 AND position < \(bound)) NOT VALID"), name: "prepare.add_range")
            try await connection.execute(
                "UPDATE event_log_settings SET first_partition_end = NULL", name: "prepare.unset_bound")
        }
        // VALIDATE scans the table holding a lock that lets appends go on.
        try await client.execute("ALTER TABLE events VALIDATE CONSTRAINT events_first_partition_range", name: "prepare.validate")
        try await client.execute("UPDATE event_log_settings SET first_partition_end = \(bound)", name: "prepare.bound_set")
        context.logger.info("validated the first partition's range", metadata: ["partition.end": "\(bound)"])
    }

    // MARK: - After the switch

    static func maintain(_ context: MigrationContext) async throws {
        try await context.client.withTransaction { connection in
            try await applyPartitionSize(context.options.eventPartitionSize, on: connection)
        }
        let created = try await context.client.query(
            "SELECT hubsignal_add_event_partitions(0)", name: "partitions.add")[0].decode(Int.self, at: 0)
        if created > 0 { context.logger.info("created partitions of the log", metadata: ["partitions.created": "\(created)"]) }
    }

    static func applyPartitionSize(_ size: Int64?, on connection: PQConnection) async throws {
        if let size, size < minimumPartitionSize {
            throw MigrationError(
                .failed, "HUBSIGNAL_EVENT_PARTITION_SIZE is \(size); a partition holds at least \(minimumPartitionSize) events")
        }
        try await connection.execute(
            """
            INSERT INTO event_log_settings (partition_size, partitions_ahead)
            VALUES (COALESCE(\(size)::bigint, \(defaultPartitionSize)::bigint), \(partitionsAhead))
            ON CONFLICT (singleton) DO UPDATE SET partition_size = COALESCE(\(size)::bigint, event_log_settings.partition_size)
            """, name: "partitions.size")
    }

    static let setUpSQL = """
        CREATE TABLE IF NOT EXISTS event_log_settings (
            singleton           boolean PRIMARY KEY DEFAULT true CHECK (singleton),
            partition_size      bigint  NOT NULL CHECK (partition_size >= 1000),
            partitions_ahead    integer NOT NULL CHECK (partitions_ahead >= 1),
            -- The online migration's progress (unused once the log is partitioned).
            keys_copy_target    bigint,
            keys_copied_through bigint,
            first_partition_end bigint
        );
        COMMENT ON TABLE event_log_settings IS 'How the event log is partitioned (hubsignal migrate sets it from HUBSIGNAL_EVENT_PARTITION_SIZE).';
        CREATE TABLE IF NOT EXISTS event_keys (
            source          text COLLATE "C" NOT NULL,
            idempotency_key text COLLATE "C" NOT NULL,
            position        bigint NOT NULL,
            PRIMARY KEY (source, idempotency_key)
        );
        REVOKE ALL ON event_keys FROM PUBLIC;
        DO $create$
        BEGIN
            EXECUTE pg_catalog.format($function$
                CREATE OR REPLACE FUNCTION %1$I.hubsignal_copy_event_keys() RETURNS trigger
                LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $body$
                BEGIN
                    INSERT INTO %1$I.event_keys (source, idempotency_key, position)
                    SELECT n.source, n.idempotency_key, n.position FROM new_events n
                    ON CONFLICT (source, idempotency_key) DO NOTHING;
                    RETURN NULL;
                END;
                $body$
                $function$, pg_catalog.current_schema());
        END
        $create$;
        REVOKE ALL ON FUNCTION hubsignal_copy_event_keys() FROM PUBLIC;
        DROP TRIGGER IF EXISTS events_copy_keys ON events;
        CREATE TRIGGER events_copy_keys
            AFTER INSERT ON events REFERENCING NEW TABLE AS new_events
            FOR EACH STATEMENT EXECUTE FUNCTION hubsignal_copy_event_keys();
        """
}
