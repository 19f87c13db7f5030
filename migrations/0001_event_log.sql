-- HubSignal's append-only event log and the checkpoints of its subscribers.
-- The names and columns here are a public interface: users query them with plain SQL.

CREATE TABLE events (
    -- Global position: unique and increasing in the order appends *started*. Appends can commit out of order, so
    -- readers order by (transaction_id, position) and only read below the oldest running transaction; see README.
    position        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The appending transaction (pg_current_xact_id()). 64-bit, so it never wraps around.
    transaction_id  xid8        NOT NULL DEFAULT pg_current_xact_id(),
    -- What the event is about, e.g. 'contact:anon-42' or 'hubspot-contact:101'.
    stream          text        NOT NULL CHECK (stream <> ''),
    -- '<source>.<subject>.<verb>', e.g. 'segment.identify', 'hubsignal.hubspot.contact_synced'.
    type            text        NOT NULL CHECK (type <> ''),
    source          text        NOT NULL CHECK (source IN ('segment', 'hubspot', 'onesignal', 'hubsignal')),
    -- Unique per source: a Segment messageId, a HubSpot eventId or callbackId, a OneSignal event id, or ours.
    idempotency_key text        NOT NULL CHECK (idempotency_key <> ''),
    occurred_at     timestamptz NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    payload         jsonb       NOT NULL,
    metadata        jsonb       NOT NULL DEFAULT '{}'::jsonb,
    CONSTRAINT events_idempotency UNIQUE (source, idempotency_key)
);

COMMENT ON TABLE events IS 'HubSignal''s append-only event log: every inbound event and every outcome. UPDATE, DELETE and TRUNCATE are refused.';
COMMENT ON COLUMN events.transaction_id IS 'pg_current_xact_id() of the appending transaction; read in (transaction_id, position) order below pg_snapshot_xmin(pg_current_snapshot()).';

-- The order in which subscribers read the log.
CREATE INDEX events_log_order ON events (transaction_id, position);
-- One stream's history (what happened to one contact, company or notification).
CREATE INDEX events_stream ON events (stream, position);

-- History cannot be rewritten: a statement-level trigger refuses UPDATE, DELETE and TRUNCATE whatever the role,
-- including statements that would touch no row. (The erasure of personal data, a later addition, is the one
-- sanctioned exception and goes through a function owned by the table owner.)
CREATE FUNCTION hubsignal_refuse_event_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the events table is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'HS001',
              HINT = 'Record a new event instead of changing history.';
END;
$$;

CREATE TRIGGER events_append_only
    BEFORE UPDATE OR DELETE OR TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION hubsignal_refuse_event_change();

-- Privileges: nobody but the owner gets anything by default. Grant the service role SELECT and INSERT only
-- (see README, "Privileges").
REVOKE ALL ON events FROM PUBLIC;

-- Wake subscribers when events are committed (notifications are delivered at commit, one per transaction).
CREATE FUNCTION hubsignal_notify_events() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('hubsignal_events', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER events_notify
    AFTER INSERT ON events
    FOR EACH STATEMENT EXECUTE FUNCTION hubsignal_notify_events();

-- Where each subscriber (projector, delivery worker) has read up to. Written in the same transaction as the
-- subscriber's own writes.
CREATE TABLE subscription_checkpoints (
    name             text        PRIMARY KEY,
    transaction_id   xid8        NOT NULL,
    position         bigint      NOT NULL,
    events_processed bigint      NOT NULL DEFAULT 0,
    updated_at       timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE subscription_checkpoints IS 'Read position (transaction_id, position) of each event-log subscriber.';
