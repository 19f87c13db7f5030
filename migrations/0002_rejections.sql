-- Messages of accepted Segment batches that failed validation: the valid messages of a batch are stored in `events`,
-- the invalid ones here, with the reason (the client is told too). Users query this table with SQL.
CREATE TABLE rejections (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at   timestamptz NOT NULL DEFAULT now(),
    source        text        NOT NULL CHECK (source IN ('segment', 'hubspot', 'onesignal')),
    endpoint      text        NOT NULL,
    write_key_id  text,
    request_id    text        NOT NULL,
    message_index integer     NOT NULL,
    message_id    text,
    reason        text        NOT NULL,
    message       jsonb       NOT NULL
);

CREATE INDEX rejections_received_at ON rejections (received_at);

COMMENT ON TABLE rejections IS 'Invalid messages of accepted requests, with the reason they were refused.';
