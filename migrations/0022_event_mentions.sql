-- Erasure finds a person's events through an index instead of reading the whole log.
--
-- hubsignal_event_mentions(payload) lists every value an erasure could match in an event: the member at every path of
-- every field of Domain's IdentityKeys rules (companies' groupId aside), whatever the event's type, each element of
-- HubSpot's mergedObjectIds list, lowered and trimmed as lower(btrim(...)), cut to its first 200 characters (a GIN
-- key has a size limit; longer values only share candidates), plus 'position:<n>' for a payload's position (HubSignal's
-- results name the event they came from by it). It is a superset: the erasure still checks each candidate with its
-- exact predicate, and a candidate it does not name is left alone. IdentityKeys is the rule; a test builds a payload
-- with a marker at each of its paths and fails when this function misses one.
--
-- hubsignal_mention_keys(values, positions) turns an erasure's identities and erased positions into the same keys, so
-- `hubsignal_event_mentions(payload) && hubsignal_mention_keys(...)` finds every event that could name them.
--
-- The GIN index events_mentions is built without blocking ingestion: on the partitioned log it is created here on
-- the parent only (ON ONLY: invalid until each partition has its own), and the migration's after step builds each
-- partition's index with CREATE INDEX CONCURRENTLY and attaches it (Sources/Migrations/EventMentionsIndex.swift); on
-- the unpartitioned log the after step builds it concurrently. Partitions created later get the index with the parent.
-- Its pending list (GIN's fast update) holds up to 16 MB instead of 4: appends merge it into the index less often
-- (an erasure reads it whole, a few milliseconds).
--
-- Online: the service runs while it is pending (its erasure then reads the whole log, as before).
-- hubsignal: online
CREATE FUNCTION hubsignal_event_mentions(payload jsonb) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    mentions text[] := array_remove(ARRAY[
        left(lower(btrim(payload->>'userId')), 200),
        left(lower(btrim(payload->'traits'->>'email')), 200),
        left(lower(btrim(payload->'context'->'traits'->>'email')), 200),
        left(lower(btrim(payload->>'anonymousId')), 200),
        left(lower(btrim(payload->>'previousId')), 200),
        left(lower(btrim(payload->'properties'->>'email')), 200),
        left(lower(btrim(payload->>'objectId')), 200),
        left(lower(btrim(payload->>'primaryObjectId')), 200),
        left(lower(btrim(payload->>'propertyValue')), 200),
        left(lower(btrim(payload->'object'->>'objectId')), 200),
        left(lower(btrim(payload->>'external_id')), 200),
        left(lower(btrim(payload->>'event.external_id')), 200),
        left(lower(btrim(payload->'event'->>'external_id')), 200),
        left(lower(btrim(payload->>'onesignal_id')), 200),
        left(lower(btrim(payload->>'event.onesignal_id')), 200),
        left(lower(btrim(payload->'event'->>'onesignal_id')), 200),
        left(lower(btrim(payload->>'contactId')), 200),
        left(lower(btrim(payload->>'hubspotObjectId')), 200),
        left(lower(btrim(payload->>'externalId')), 200),
        'position:' || (payload->>'position')
    ], NULL);
BEGIN
    IF jsonb_typeof(payload->'mergedObjectIds') = 'array' THEN
        mentions := mentions || ARRAY(
            SELECT left(lower(btrim(id)), 200)
            FROM jsonb_array_elements_text(payload->'mergedObjectIds') AS id WHERE id IS NOT NULL);
    END IF;
    RETURN mentions;
END
$$;

CREATE FUNCTION hubsignal_mention_keys(identity_values text[], positions bigint[]) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ARRAY(
        SELECT left(value, 200) FROM unnest(identity_values) AS value WHERE value IS NOT NULL
        UNION SELECT left(lower(btrim(value)), 200) FROM unnest(identity_values) AS value WHERE value IS NOT NULL
        UNION SELECT 'position:' || position FROM unnest(positions) AS position WHERE position IS NOT NULL)
$$;

DO $$
BEGIN
    IF (SELECT relkind FROM pg_class WHERE oid = 'events'::regclass) = 'p' THEN
        CREATE INDEX events_mentions ON ONLY events USING gin (hubsignal_event_mentions(payload))
            WITH (gin_pending_list_limit = 16384);
    END IF;
END
$$;
