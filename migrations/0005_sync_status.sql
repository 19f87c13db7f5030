-- Delivery state per contact and destination: what the mapping wants there now (desired), what the destination last
-- confirmed (acknowledged, from result events in the log), and the resulting state. Part of the people projection,
-- rebuilt with it.

ALTER TABLE contacts
    -- HubSpot property values HubSpot last acknowledged (hubsignal.hubspot.contact_synced); NULL: never synced.
    ADD COLUMN hubspot_acknowledged   jsonb,
    -- OneSignal tags OneSignal last acknowledged (hubsignal.onesignal.user_synced); NULL: never synced.
    ADD COLUMN onesignal_acknowledged jsonb,
    -- The reason of the last failed delivery, until the next acknowledgement or change (hubsignal.*.delivery_failed).
    ADD COLUMN hubspot_failure        text,
    ADD COLUMN onesignal_failure      text;

CREATE TABLE sync_status (
    contact_id   text COLLATE "C" NOT NULL,
    destination  text        NOT NULL CHECK (destination IN ('hubspot', 'onesignal')),
    -- 'waiting': the contact cannot be matched there yet (no email for HubSpot; no external id for OneSignal);
    -- 'pending': desired differs from acknowledged; 'in_sync': they agree; 'failed': the last delivery failed (reason).
    state        text        NOT NULL CHECK (state IN ('waiting', 'pending', 'in_sync', 'failed')),
    reason       text,
    desired      jsonb       NOT NULL,
    acknowledged jsonb,
    updated_at   timestamptz NOT NULL,
    PRIMARY KEY (contact_id, destination)
);
CREATE INDEX sync_status_state ON sync_status (destination, state);
