-- hubsignal: online
-- The event log partitioned by position range, and idempotency keys in their own table (event_keys).
--
-- This script is the switch, one short transaction; `hubsignal migrate` prepares it first while the service keeps
-- writing (Sources/Migrations/EventLogPartitioning.swift): event_keys filled in batches (a statement trigger copies the
-- keys of new events meanwhile), and a validated CHECK constraint on events' position range, so that attaching the
-- existing table as the first partition scans nothing. Here, under an exclusive lock held for milliseconds: the old
-- table becomes partition events_p0000000000001 (history is not rewritten), a partitioned `events` with the same
-- columns, indexes, triggers, comments and privileges takes its name, event_keys.position becomes the log's position
-- sequence (continuing the old one), and the partitions ahead of the head are created.
-- Creates the partitions the log needs ahead of its head (partitions_ahead × partition_size positions past it, plus
-- p_room: the size of a batch that found no partition); returns how many it created. Run by `hubsignal migrate`, by the service periodically, and by the store when a row
-- finds no partition. A new partition is created empty, as a table of its own, then attached: attaching takes a lock
-- that lets reads and appends go on (CREATE TABLE … PARTITION OF would wait for every reader of the log).
DO $function$
BEGIN
    EXECUTE pg_catalog.format($create$
        CREATE FUNCTION %1$I.hubsignal_add_event_partitions(p_room bigint DEFAULT 0) RETURNS integer
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $body$
        DECLARE
            size bigint;
            ahead integer;
            head bigint;
            covered bigint;
            name text;
            created integer := 0;
        BEGIN
            PERFORM pg_catalog.pg_advisory_xact_lock(5211848427383578625);
            SELECT s.partition_size, s.partitions_ahead INTO size, ahead FROM %1$I.event_log_settings s;
            head := GREATEST(
                COALESCE(pg_catalog.pg_sequence_last_value(
                    pg_catalog.pg_get_serial_sequence(%2$L, 'position')::pg_catalog.regclass), 0),
                COALESCE((SELECT max(e.position) FROM %1$I.events e), 0));
            SELECT max(pg_catalog.substring(pg_catalog.pg_get_expr(c.relpartbound, c.oid), 'TO \(''?(-?[0-9]+)''?\)')::bigint)
            INTO covered
            FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = %3$L::pg_catalog.regclass;
            covered := COALESCE(covered, 1);
            WHILE covered <= head + GREATEST(p_room, 0) + (ahead::bigint * size) LOOP
                name := 'events_p' || pg_catalog.lpad(covered::text, 13, '0');
                EXECUTE pg_catalog.format('CREATE TABLE %%I.%%I (LIKE %%I.events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
                                          %1$L, name, %1$L);
                EXECUTE pg_catalog.format('ALTER TABLE %%I.%%I ADD CONSTRAINT new_partition_range CHECK (position >= %%s AND position < %%s)',
                                          %1$L, name, covered, covered + size);
                EXECUTE pg_catalog.format('ALTER TABLE %%I.events ATTACH PARTITION %%I.%%I FOR VALUES FROM (%%s) TO (%%s)',
                                          %1$L, %1$L, name, covered, covered + size);
                EXECUTE pg_catalog.format('ALTER TABLE %%I.%%I DROP CONSTRAINT new_partition_range', %1$L, name);
                EXECUTE pg_catalog.format(
                    'CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON %%I.%%I '
                    'FOR EACH STATEMENT EXECUTE FUNCTION %%I.hubsignal_refuse_event_change()', %1$L, name, %1$L);
                covered := covered + size;
                created := created + 1;
            END LOOP;
            RETURN created;
        END;
        $body$
        $create$, pg_catalog.current_schema(), pg_catalog.quote_ident(pg_catalog.current_schema()) || '.event_keys',
        pg_catalog.quote_ident(pg_catalog.current_schema()) || '.events');
    EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %I.hubsignal_add_event_partitions(bigint) FROM PUBLIC', pg_catalog.current_schema());
END
$function$;

DO $migration$
DECLARE
    schema_name text := pg_catalog.current_schema();
    settings record;
    first_partition text := 'events_p0000000000001';
    old_table oid;
    head bigint;
    next_position bigint;
    grant_row record;
BEGIN
    SELECT * INTO settings FROM event_log_settings;
    IF settings IS NULL OR settings.first_partition_end IS NULL
       OR settings.keys_copied_through IS NULL OR settings.keys_copied_through < settings.keys_copy_target THEN
        RAISE EXCEPTION 'the partitioned event log must be prepared first'
            USING HINT = 'Run `hubsignal migrate`: it prepares this migration while the service runs, then applies it.';
    END IF;
    old_table := pg_catalog.format('%I.events', schema_name)::regclass;

    LOCK TABLE events IN ACCESS EXCLUSIVE MODE;
    SELECT COALESCE(max(position), 0) INTO head FROM events;
    IF head >= settings.first_partition_end THEN
        RAISE EXCEPTION 'the log grew past the prepared first partition (head %, bound %)', head, settings.first_partition_end
            USING HINT = 'Run `hubsignal migrate` again: it prepares a larger bound.';
    END IF;
    next_position := GREATEST(head, COALESCE(pg_catalog.pg_sequence_last_value(
        pg_catalog.pg_get_serial_sequence(pg_catalog.format('%I.events', schema_name), 'position')::regclass), 0)) + 1;

    -- An erasure that ran during the preparation redacted the event's key after it was copied.
    UPDATE event_keys k SET idempotency_key = e.idempotency_key
    FROM events e
    WHERE e.stream >= 'erased:' AND e.stream < 'erased;' AND k.position = e.position
      AND k.idempotency_key <> e.idempotency_key;

    DROP TRIGGER events_copy_keys ON events;
    DROP FUNCTION hubsignal_copy_event_keys();
    DROP TRIGGER events_notify ON events;
    ALTER TABLE events ALTER COLUMN position DROP IDENTITY;
    ALTER TABLE events DROP CONSTRAINT events_idempotency;
    EXECUTE pg_catalog.format('ALTER TABLE events RENAME TO %I', first_partition);
    EXECUTE pg_catalog.format('ALTER TABLE %I RENAME CONSTRAINT events_pkey TO %I', first_partition, first_partition || '_pkey');
    EXECUTE pg_catalog.format('ALTER INDEX events_log_order RENAME TO %I', first_partition || '_log_order');
    EXECUTE pg_catalog.format('ALTER INDEX events_stream RENAME TO %I', first_partition || '_stream');

    CREATE TABLE events (
        position        bigint      NOT NULL,
        transaction_id  xid8        NOT NULL DEFAULT pg_current_xact_id(),
        stream          text        COLLATE "C" NOT NULL CONSTRAINT events_stream_check CHECK (stream <> ''),
        type            text        NOT NULL CONSTRAINT events_type_check CHECK (type <> ''),
        source          text        COLLATE "C" NOT NULL
                                    CONSTRAINT events_source_check CHECK (source IN ('segment', 'hubspot', 'onesignal', 'hubsignal')),
        idempotency_key text        COLLATE "C" NOT NULL CONSTRAINT events_idempotency_key_check CHECK (idempotency_key <> ''),
        occurred_at     timestamptz NOT NULL,
        recorded_at     timestamptz NOT NULL DEFAULT now(),
        payload         jsonb       NOT NULL,
        metadata        jsonb       NOT NULL DEFAULT '{}'::jsonb,
        PRIMARY KEY (position)
    ) PARTITION BY RANGE (position);
    CREATE INDEX events_log_order ON events (transaction_id, position);
    CREATE INDEX events_stream ON events (stream, position);
    EXECUTE pg_catalog.format('ALTER TABLE events ATTACH PARTITION %I FOR VALUES FROM (1) TO (%s)',
                              first_partition, settings.first_partition_end);
    EXECUTE pg_catalog.format('ALTER TABLE %I DROP CONSTRAINT events_first_partition_range', first_partition);

    COMMENT ON TABLE events IS 'HubSignal''s append-only event log: every inbound event and every outcome, partitioned by position range (partitions: the view event_partitions). UPDATE, DELETE and TRUNCATE are refused.';
    COMMENT ON COLUMN events.transaction_id IS 'pg_current_xact_id() of the appending transaction; read in (transaction_id, position) order below pg_snapshot_xmin(pg_current_snapshot()).';
    COMMENT ON COLUMN events.idempotency_key IS 'Unique per source, forever: the unique index is event_keys'' primary key (a unique index on a partitioned table must include the position).';

    CREATE TRIGGER events_append_only
        BEFORE UPDATE OR DELETE OR TRUNCATE ON events
        FOR EACH STATEMENT EXECUTE FUNCTION hubsignal_refuse_event_change();
    CREATE TRIGGER events_notify
        AFTER INSERT ON events
        FOR EACH STATEMENT EXECUTE FUNCTION hubsignal_notify_events();
    REVOKE ALL ON events FROM PUBLIC;

    -- The keys' position is the log's position sequence from now on, continuing the old one.
    EXECUTE pg_catalog.format(
        'ALTER TABLE event_keys ALTER COLUMN position ADD GENERATED ALWAYS AS IDENTITY (START WITH %s)', next_position);
    COMMENT ON TABLE event_keys IS 'The idempotency key of every event ever appended (archived partitions included): (source, idempotency_key) is unique forever; position is the log''s position sequence.';

    -- Whoever could read or append to the log can read or append through the partitioned table (and its keys);
    -- nobody but the owner touches a partition directly.
    FOR grant_row IN
        SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(a.grantee::regrole::text) END AS role,
               a.privilege_type AS privilege
        FROM pg_catalog.pg_class c, pg_catalog.aclexplode(c.relacl) a
        WHERE c.oid = old_table AND a.grantee <> c.relowner
    LOOP
        EXECUTE pg_catalog.format('GRANT %s ON events TO %s', grant_row.privilege, grant_row.role);
        IF grant_row.privilege IN ('SELECT', 'INSERT') THEN
            EXECUTE pg_catalog.format('GRANT %s ON event_keys TO %s', grant_row.privilege, grant_row.role);
        END IF;
        IF grant_row.privilege = 'INSERT' THEN
            EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION hubsignal_add_event_partitions(bigint) TO %s', grant_row.role);
        END IF;
        EXECUTE pg_catalog.format('REVOKE %s ON %I FROM %s', grant_row.privilege, first_partition, grant_row.role);
    END LOOP;

    -- Erasure redacts the key in event_keys too (before the event's own, whose old value it matches).
    EXECUTE pg_catalog.format($erase$
        CREATE OR REPLACE FUNCTION %1$I.hubsignal_erase_events(p_positions bigint[], p_erasure text, p_identities text[])
        RETURNS bigint
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $body$
        DECLARE
            erased bigint;
        BEGIN
            IF p_erasure IS NULL OR p_erasure OPERATOR(pg_catalog.!~) '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'::text THEN
                RAISE EXCEPTION 'an erasure id is a lower-case UUID, not %%', p_erasure USING ERRCODE = '22023';
            END IF;
            UPDATE %1$I.event_keys AS k
            SET idempotency_key = 'erased:'::text OPERATOR(pg_catalog.||) e.position::text
            FROM %1$I.events AS e
            WHERE e.position OPERATOR(pg_catalog.=) ANY (p_positions)
              AND NOT pg_catalog.starts_with(e.stream, 'erased:'::text)
              AND k.source OPERATOR(pg_catalog.=) e.source AND k.idempotency_key OPERATOR(pg_catalog.=) e.idempotency_key
              AND EXISTS (
                  SELECT FROM pg_catalog.unnest(p_identities) AS i(value)
                  WHERE i.value OPERATOR(pg_catalog.<>) ''::text
                    AND pg_catalog.strpos(pg_catalog.lower(e.idempotency_key), pg_catalog.lower(i.value)) OPERATOR(pg_catalog.>) 0);
            UPDATE %1$I.events AS e
            SET payload = pg_catalog.jsonb_build_object('erased'::text, p_erasure),
                metadata = pg_catalog.jsonb_build_object('erased'::text, p_erasure),
                stream = 'erased:'::text OPERATOR(pg_catalog.||) p_erasure,
                idempotency_key = CASE
                    WHEN EXISTS (
                        SELECT FROM pg_catalog.unnest(p_identities) AS i(value)
                        WHERE i.value OPERATOR(pg_catalog.<>) ''::text
                          AND pg_catalog.strpos(pg_catalog.lower(e.idempotency_key), pg_catalog.lower(i.value)) OPERATOR(pg_catalog.>) 0)
                    THEN 'erased:'::text OPERATOR(pg_catalog.||) e.position::text
                    ELSE e.idempotency_key END
            WHERE e.position OPERATOR(pg_catalog.=) ANY (p_positions)
              AND NOT pg_catalog.starts_with(e.stream, 'erased:'::text);
            GET DIAGNOSTICS erased = ROW_COUNT;
            RETURN erased;
        END;
        $body$
        $erase$, schema_name);

    PERFORM hubsignal_add_event_partitions();
END
$migration$;

-- The attached partitions of the log, in position order: [from_position, to_position).
CREATE VIEW event_partitions AS
SELECT c.relname::text AS partition_name,
       pg_catalog.substring(pg_catalog.pg_get_expr(c.relpartbound, c.oid), 'FROM \(''?(-?[0-9]+)''?\)')::bigint AS from_position,
       pg_catalog.substring(pg_catalog.pg_get_expr(c.relpartbound, c.oid), 'TO \(''?(-?[0-9]+)''?\)')::bigint AS to_position
FROM pg_catalog.pg_inherits i
JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'events'::regclass;
COMMENT ON VIEW event_partitions IS 'The attached partitions of events: [from_position, to_position).';
