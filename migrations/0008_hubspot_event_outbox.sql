-- Custom behavioral events waiting for HubSpot (track calls, and page/screen calls when the mapping says so): written
-- by the `hubspot-events` subscription in the transaction of its checkpoint, removed once HubSpot accepted them. The
-- contact is found when the event is sent (by its identities), so an event whose contact gets an email later waits.
CREATE TABLE hubspot_event_outbox (
    -- The Segment call's position in `events`.
    position     bigint PRIMARY KEY,
    -- The fully qualified event name, pe<portal id>_<name>.
    event_name   text        NOT NULL,
    properties   jsonb       NOT NULL,
    occurred_at  timestamptz NOT NULL,
    -- The identities the call named, most decisive first.
    user_id      text,
    anonymous_id text,
    email        text,
    -- HubSpot's idempotency key for the occurrence (derived from the call's messageId): a resend is not counted twice.
    uuid         text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
