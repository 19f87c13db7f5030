-- hubsignal: online
-- Archived partitions of the log (`hubsignal archive`): old partitions every subscriber has read, detached from
-- `events` and either kept as tables in the schema hubsignal_archive or exported to a file and dropped. One row per
-- partition archived and not restored; `hubsignal archive --restore` attaches the partition again and deletes its row.
-- The idempotency keys of archived events stay in event_keys: a retried old message is still a duplicate.
DROP SCHEMA IF EXISTS hubsignal_archive CASCADE;
CREATE SCHEMA hubsignal_archive;
REVOKE ALL ON SCHEMA hubsignal_archive FROM PUBLIC;
COMMENT ON SCHEMA hubsignal_archive IS 'Partitions of events detached by hubsignal archive (listed in event_archive); hubsignal archive --restore attaches them again.';

CREATE TABLE event_archive (
    -- The partition's table name, events_p<first position, 13 digits>.
    partition_name     text COLLATE "C" PRIMARY KEY,
    -- Its range of positions: [from_position, to_position).
    from_position      bigint      NOT NULL,
    to_position        bigint      NOT NULL CHECK (to_position > from_position),
    -- Its events, and the largest transaction id among them (NULL: none), when it was archived.
    row_count          bigint      NOT NULL,
    max_transaction_id xid8,
    archived_at        timestamptz NOT NULL DEFAULT now(),
    -- 'schema': the table hubsignal_archive.<partition_name>; 'file': exported to file_path (then dropped), whose
    -- SHA-256 is file_sha256.
    location           text        NOT NULL CHECK (location IN ('schema', 'file')),
    file_path          text,
    file_sha256        text,
    CHECK ((location = 'file') = (file_path IS NOT NULL AND file_sha256 IS NOT NULL))
);
CREATE UNIQUE INDEX event_archive_range ON event_archive (from_position);
REVOKE ALL ON event_archive FROM PUBLIC;
COMMENT ON TABLE event_archive IS 'Partitions of events archived by hubsignal archive and not restored: history before the first attached partition lives here.';
