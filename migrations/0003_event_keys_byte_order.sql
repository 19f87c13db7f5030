-- Streams and idempotency keys are identifiers, not prose: compare them byte by byte ("C" collation) whatever the
-- database's locale. Under a libc or ICU locale every comparison in the events_idempotency and events_stream
-- B-trees would otherwise go through the locale's collation rules, on the hot path of every append.
-- (A collation-only change keeps the table's rows as they are and rebuilds the affected indexes.)
ALTER TABLE events
    ALTER COLUMN stream TYPE text COLLATE "C",
    ALTER COLUMN idempotency_key TYPE text COLLATE "C",
    ALTER COLUMN source TYPE text COLLATE "C";
