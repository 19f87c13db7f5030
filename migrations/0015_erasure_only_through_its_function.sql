-- Only hubsignal_erase_events may change the log, and nothing a session can set lets a plain UPDATE through.
--
-- Until now the append-only trigger let an UPDATE pass whenever the setting hubsignal.erasure was not empty, and any
-- session can set it (`SET LOCAL hubsignal.erasure = 'x'; UPDATE events …`). Now the trigger lets an UPDATE pass only
-- when both hold:
--   - it runs as the owner of events (current_user): inside hubsignal_erase_events, a SECURITY DEFINER function owned
--     by the table owner, that is the owner whoever called it; any other role is refused (and has no UPDATE right);
--   - the outermost frame of the call stack (GET DIAGNOSTICS … PG_CONTEXT) is hubsignal_erase_events, i.e. the UPDATE
--     is the function's own statement. A statement sent by a client, a DO block or a function of another name is
--     refused, the owner's included: rewriting history now takes DDL (dropping the trigger, creating a function),
--     which is logged with log_statement = 'ddl'. Only the function name and its argument types are compared (they
--     are not translated); a line with quotes is refused, which leaves out everything a client's text could reach
--     (statement text and bound parameters are quoted in a call stack).
-- DELETE and TRUNCATE are refused whatever the caller.
--
-- hubsignal_erase_events gets a third argument, the person's identities: an erased event keeps its idempotency key
-- (a Segment messageId, a HubSpot event or callback id, a OneSignal event id, or one of ours: ids generated per
-- message, not personal data) so that a client's retry of an erased message is a duplicate and stores nothing,
-- unless the key contains one of those identities, in which case it becomes 'erased:<position>' as before. Its
-- search path is pg_catalog then pg_temp, every name in it is schema-qualified and every value cast explicitly, so
-- nothing created in another schema (public included) can run with the owner's rights. The old two-argument function
-- is dropped; whoever had EXECUTE on it gets EXECUTE on the new one.
DO $migration$
DECLARE
    schema_name text := pg_catalog.current_schema();
    grantee record;
BEGIN
    EXECUTE pg_catalog.format($trigger$
        CREATE OR REPLACE FUNCTION %1$I.hubsignal_refuse_event_change() RETURNS trigger
        LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $body$
        DECLARE
            stack text;
            outermost text;
            signature text;
            found_at integer;
            table_owner oid;
        BEGIN
            IF TG_OP = 'UPDATE' THEN
                SELECT c.relowner INTO table_owner FROM pg_catalog.pg_class c WHERE c.oid = TG_RELID;
                GET DIAGNOSTICS stack = PG_CONTEXT;
                outermost := pg_catalog.regexp_replace(stack, '^.*\n', '');
                signature := pg_catalog.quote_ident(TG_TABLE_SCHEMA) || '.hubsignal_erase_events(bigint[],text,text[])';
                found_at := pg_catalog.strpos(outermost, signature);
                IF table_owner = (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname = current_user)
                   AND pg_catalog.strpos(pg_catalog.replace(outermost, signature, ''), '''') = 0
                   AND pg_catalog.strpos(pg_catalog.replace(outermost, signature, ''), '"') = 0
                   AND found_at > 0
                   AND (found_at = 1 OR pg_catalog.substr(outermost, found_at - 1, 1) !~ '[[:alnum:]_.$]')
                THEN
                    RETURN NULL;
                END IF;
            END IF;
            RAISE EXCEPTION 'the events table is append-only: %% is not allowed', TG_OP
                USING ERRCODE = 'HS001',
                      HINT = 'Record a new event instead of changing history; personal data is erased with hubsignal erase.';
        END;
        $body$
        $trigger$, schema_name);

    EXECUTE pg_catalog.format($erase$
        CREATE FUNCTION %1$I.hubsignal_erase_events(p_positions bigint[], p_erasure text, p_identities text[])
        RETURNS bigint
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $body$
        DECLARE
            erased bigint;
        BEGIN
            IF p_erasure IS NULL OR p_erasure OPERATOR(pg_catalog.!~) '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'::text THEN
                RAISE EXCEPTION 'an erasure id is a lower-case UUID, not %%', p_erasure USING ERRCODE = '22023';
            END IF;
            UPDATE %1$I.events AS e
            SET payload = pg_catalog.jsonb_build_object('erased'::text, p_erasure),
                metadata = pg_catalog.jsonb_build_object('erased'::text, p_erasure),
                stream = 'erased:'::text OPERATOR(pg_catalog.||) p_erasure,
                idempotency_key = CASE
                    WHEN EXISTS (
                        SELECT FROM pg_catalog.unnest(p_identities) AS i(value)
                        WHERE i.value OPERATOR(pg_catalog.<>) ''::text
                          AND pg_catalog.strpos(pg_catalog.lower(e.idempotency_key), pg_catalog.lower(i.value)) OPERATOR(pg_catalog.>) 0)
                    THEN 'erased:'::text OPERATOR(pg_catalog.||) e.position::text
                    ELSE e.idempotency_key END
            WHERE e.position OPERATOR(pg_catalog.=) ANY (p_positions)
              AND NOT pg_catalog.starts_with(e.stream, 'erased:'::text);
            GET DIAGNOSTICS erased = ROW_COUNT;
            RETURN erased;
        END;
        $body$
        $erase$, schema_name);
    EXECUTE pg_catalog.format(
        'REVOKE ALL ON FUNCTION %1$I.hubsignal_erase_events(bigint[], text, text[]) FROM PUBLIC', schema_name);

    FOR grantee IN
        SELECT a.grantee::regrole::text AS role
        FROM pg_catalog.pg_proc p, pg_catalog.aclexplode(p.proacl) a
        WHERE p.oid = pg_catalog.to_regprocedure(pg_catalog.format('%I.hubsignal_erase_events(bigint[], text)', schema_name))
          AND a.privilege_type = 'EXECUTE' AND a.grantee <> p.proowner AND a.grantee <> 0
    LOOP
        EXECUTE pg_catalog.format(
            'GRANT EXECUTE ON FUNCTION %I.hubsignal_erase_events(bigint[], text, text[]) TO %s', schema_name, grantee.role);
    END LOOP;
    EXECUTE pg_catalog.format('DROP FUNCTION %I.hubsignal_erase_events(bigint[], text)', schema_name);
END
$migration$;
