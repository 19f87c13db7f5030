-- Behavioral events identified as Segment's HubSpot destinations identify them (issue 22 item 9), and the history of
-- matching events sent on request (item 11).
--
-- utk: the HubSpot user token (the `hubspotutk` cookie a page sends with the call, `behavioral_events.utk_from`), sent
-- with the occurrence so HubSpot can tie it to the visitor when no contact is known by id or email.
ALTER TABLE hubspot_event_outbox ADD COLUMN utk text;

-- Every outbox row ever queued (position and rule; no personal data), written in the transaction that queues it, by
-- the live `hubspot-events` subscription and by backfills alike. A backfill queues only rows missing here, so an event
-- output is queued once whichever of them reaches it first, and never again after it was sent and removed.
CREATE TABLE hubspot_event_queued (
    position bigint NOT NULL,
    rule     text COLLATE "C" NOT NULL,
    PRIMARY KEY (position, rule)
);
-- Rows waiting at the upgrade were queued before this record existed.
INSERT INTO hubspot_event_queued (position, rule) SELECT position, rule FROM hubspot_event_outbox;
