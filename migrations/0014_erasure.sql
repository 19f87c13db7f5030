-- Erasure of a person's personal data (`hubsignal erase`): the one sanctioned change to the append-only log.
--
-- hubsignal_erase_events(positions, erasure id) replaces the payload and metadata of those events with
-- {"erased": "<erasure id>"}, their stream with 'erased:<erasure id>' and their idempotency key with
-- 'erased:<position>'; position, transaction id, type, source and times stay, so positions and counts are intact.
-- It runs with the table owner's rights (SECURITY DEFINER) and marks its own transaction, which the append-only
-- trigger lets through; every other UPDATE, DELETE or TRUNCATE is still refused. Grant EXECUTE on it only to the
-- role that runs `hubsignal erase`.

CREATE OR REPLACE FUNCTION hubsignal_refuse_event_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND COALESCE(current_setting('hubsignal.erasure', true), '') <> '' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'the events table is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'HS001',
              HINT = 'Record a new event instead of changing history; personal data is erased with hubsignal erase.';
END;
$$;

CREATE FUNCTION hubsignal_erase_events(p_positions bigint[], p_erasure text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    erased bigint;
BEGIN
    IF p_erasure IS NULL OR p_erasure !~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN
        RAISE EXCEPTION 'an erasure id is a lower-case UUID, not %', p_erasure USING ERRCODE = '22023';
    END IF;
    PERFORM set_config('hubsignal.erasure', p_erasure, true);
    UPDATE events
    SET payload = jsonb_build_object('erased', p_erasure), metadata = jsonb_build_object('erased', p_erasure),
        stream = 'erased:' || p_erasure, idempotency_key = 'erased:' || position
    WHERE position = ANY(p_positions);
    GET DIAGNOSTICS erased = ROW_COUNT;
    PERFORM set_config('hubsignal.erasure', '', true);
    RETURN erased;
END;
$$;
REVOKE ALL ON FUNCTION hubsignal_erase_events(bigint[], text) FROM PUBLIC;
