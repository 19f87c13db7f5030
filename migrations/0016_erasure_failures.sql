-- Dead letters of the privacy-deletions subscription: a contact.privacyDeletion webhook whose erasure failed for a
-- reason a retry does not fix (a missing privilege, work about the person that did not settle). The subscription
-- records it here and goes on with the next events instead of retrying the batch forever; `hubsignal status` shows
-- the count and the last reason, and `hubsignal erase --hubspot-id <id>` erases the person once the cause is fixed
-- (the row is deleted then).
CREATE TABLE erasure_failures (
    -- The webhook event's position in events.
    position          bigint      PRIMARY KEY,
    -- The HubSpot contact the webhook named (HubSpot's record id).
    hubspot_object_id text        NOT NULL,
    -- Why the erasure failed (HubSignal's own text, no personal data).
    reason            text        NOT NULL,
    failed_at         timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON erasure_failures FROM PUBLIC;

-- The rebuild's swap without CREATE on this schema for the service role.
--
-- A rebuild (`hubsignal rebuild`, or `serve` after a mapping change) replays the log into shadow tables of the schema
-- hubsignal_rebuild and then swaps them in. The service role may create tables in hubsignal_rebuild (grant it USAGE and
-- CREATE on it, see README) but not in this schema, where an object it planted could be found by the owner's sessions
-- (`migrate`). hubsignal_swap_read_models(tables) does the swap with the owner's rights: in the caller's transaction it
-- drops each live read-model table (CASCADE: views defined on them go too, as before) and moves the shadow table of
-- the same name in. Only the people projection's tables can be named. The owner must be able to drop and move the
-- service role's tables: a superuser, or a member of the service role (`GRANT hubsignal_service TO <owner>`).
DROP SCHEMA IF EXISTS hubsignal_rebuild CASCADE;
CREATE SCHEMA hubsignal_rebuild;
REVOKE ALL ON SCHEMA hubsignal_rebuild FROM PUBLIC;

DO $migration$
BEGIN
    EXECUTE pg_catalog.format($swap$
        CREATE FUNCTION %1$I.hubsignal_swap_read_models(p_tables text[]) RETURNS void
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $body$
        DECLARE
            read_model text;
        BEGIN
            IF p_tables IS NULL OR pg_catalog.cardinality(p_tables) OPERATOR(pg_catalog.=) 0 THEN
                RAISE EXCEPTION 'name the read-model tables to swap' USING ERRCODE = '22023';
            END IF;
            FOREACH read_model IN ARRAY p_tables LOOP
                IF NOT read_model OPERATOR(pg_catalog.=) ANY (ARRAY['identities', 'contacts', 'contact_merges', 'companies',
                        'contact_companies', 'audience_memberships', 'devices', 'message_activity', 'sync_status',
                        'company_identities', 'company_merges']::text[]) THEN
                    RAISE EXCEPTION '%% is not a read-model table of the people projection', read_model USING ERRCODE = '42501';
                END IF;
                IF pg_catalog.to_regclass(pg_catalog.format('hubsignal_rebuild.%%I', read_model)) IS NULL THEN
                    RAISE EXCEPTION 'hubsignal_rebuild.%% does not exist', read_model USING ERRCODE = '42P01';
                END IF;
            END LOOP;
            FOREACH read_model IN ARRAY p_tables LOOP
                EXECUTE pg_catalog.format('DROP TABLE %1$I.%%I CASCADE', read_model);
                EXECUTE pg_catalog.format('ALTER TABLE hubsignal_rebuild.%%I SET SCHEMA %1$I', read_model);
            END LOOP;
        END;
        $body$
        $swap$, pg_catalog.current_schema());
    EXECUTE pg_catalog.format(
        'REVOKE ALL ON FUNCTION %I.hubsignal_swap_read_models(text[]) FROM PUBLIC', pg_catalog.current_schema());
END
$migration$;
