-- Custom object records (`custom_objects:` in the mapping) share the outbox of behavioral events: the `hubspot-events`
-- subscription queues one row per message and matching rule (kind 'custom_object'; event_name holds the object type,
-- properties the record's property values, '' clearing one), and the HubSpot sync searches the object type by the
-- rule's search fields, updates or creates the record, and associates it with the message's contact or company.
--
-- One message can match several rules, and a track call can also be a behavioral event: a row is now keyed by its
-- position and its rule ('' for every other kind, which queue at most one row per message). The delivery ledger key
-- (deliveries.object_key of object_kind 'event') is `delivery_key`: the position alone for rows without a rule, as
-- before (so ledger rows of events queued before this migration keep matching), `position:rule` for custom object rows
-- (a position has no ':', so the two never collide).
ALTER TABLE hubspot_event_outbox
    -- The custom_objects rule that queued the row; '' for behavioral events, notes and timeline events.
    ADD COLUMN rule         text COLLATE "C" NOT NULL DEFAULT '',
    -- The Segment group id the message named (groupId, or context.groupId): the company a record is associated with.
    ADD COLUMN group_id     text;
ALTER TABLE hubspot_event_outbox
    ADD COLUMN delivery_key text COLLATE "C" NOT NULL
        GENERATED ALWAYS AS (CASE WHEN rule = '' THEN position::text ELSE position::text || ':' || rule END) STORED;

ALTER TABLE hubspot_event_outbox DROP CONSTRAINT hubspot_event_outbox_kind_check;
ALTER TABLE hubspot_event_outbox ADD CONSTRAINT hubspot_event_outbox_kind_check
    -- 'custom_object': a record upserted by search fields (/crm/v3/objects/{type}/search, then PATCH or POST).
    CHECK (kind IN ('behavioral_event', 'note', 'timeline_event', 'custom_object'));
ALTER TABLE hubspot_event_outbox ADD CONSTRAINT hubspot_event_outbox_custom_object_rule
    CHECK ((kind = 'custom_object') = (rule <> ''));

ALTER TABLE hubspot_event_outbox DROP CONSTRAINT hubspot_event_outbox_pkey;
ALTER TABLE hubspot_event_outbox ADD PRIMARY KEY (position, rule);
CREATE UNIQUE INDEX hubspot_event_outbox_delivery_key ON hubspot_event_outbox (delivery_key);

-- The record HubSignal last wrote for a rule's search values (hubsignal.hubspot.object_synced: objectType, searchKey,
-- hubspotId): looked up before searching HubSpot, whose search shows a write only seconds later, so that two messages
-- for one record a moment apart do not create it twice.
CREATE INDEX events_hubspot_object_records ON events ((payload->>'objectType'), (payload->>'searchKey'), position)
    WHERE type = 'hubsignal.hubspot.object_synced';
