import Foundation
import PQ
import Testing
import TestSupport

/// The append-only log's guard (migration 0015): no session setting opens `events` to an UPDATE, only
/// `hubsignal_erase_events` changes it, and that function cannot be made to run code planted in another schema.
@Suite struct AppendOnlyLogTests {
    static let erasureID = "01234567-89ab-cdef-0123-456789abcdef"

    /// A role that logs in with `grants` applied, and a client connected as it; dropped after `body`.
    static func withRole<T>(
        _ database: TestDatabase, _ prefix: String, grants: [String], _ body: (String, PQClient) async throws -> T
    ) async throws -> T {
        let role = prefix + UUID().uuidString.prefix(8).lowercased()
        try await database.client.execute("CREATE ROLE \(identifier: role) LOGIN")
        for grant in grants {
            try await database.client.execute(PQQuery(unsafeSQL: grant.replacingOccurrences(of: "$ROLE", with: "\"\(role)\"")))
        }
        let client = PQClient(
            configuration: .init(connectionString: database.connectionString + " user=\(role)"), logger: TestPostgres.logger)
        do {
            let result = try await body(role, client)
            await client.shutdown()
            try await database.client.execute("REASSIGN OWNED BY \(identifier: role) TO CURRENT_USER")
            try await database.client.execute("DROP OWNED BY \(identifier: role)")
            try await database.client.execute("DROP ROLE \(identifier: role)")
            return result
        } catch {
            await client.shutdown()
            throw error
        }
    }

    static func appendOne(_ client: PQClient, key: String = UUID().uuidString) async throws -> Int64 {
        try await client.query(
            """
            WITH key AS (INSERT INTO event_keys (source, idempotency_key) VALUES ('segment', \(key)) RETURNING position)
            INSERT INTO events (position, stream, type, source, idempotency_key, occurred_at, payload)
            SELECT position, 'user:ada', 'segment.identify', 'segment', \(key), now(), '{"userId":"ada"}' FROM key
            RETURNING position
            """)[0].decode(Int64.self, at: 0)
    }

    /// Runs `statements` in one transaction on one connection of `client`; returns the SQLSTATE it failed with.
    static func failure(_ client: PQClient, _ statements: [String]) async -> String? {
        do {
            try await client.withTransaction { connection in
                for statement in statements { try await connection.execute(PQQuery(unsafeSQL: statement)) }
            }
            return nil
        } catch let error as PQError {
            return error.sqlState ?? "unknown"
        } catch {
            return "unknown"
        }
    }

    static func payload(_ client: PQClient, _ position: Int64) async throws -> String {
        try await client.query("SELECT payload::text FROM events WHERE position = \(position)")[0].decode(String.self, at: 0)
    }

    @Test("SET LOCAL hubsignal.erasure opens nothing: the owner's UPDATE, DELETE, TRUNCATE and DO block are refused")
    func theOwnerCannotRewriteWithASetting() async throws {
        try await TestPostgres.withDatabase { database in
            let position = try await Self.appendOne(database.client)
            // The migrating role (here a superuser) owns events.
            for statements in [
                ["SET LOCAL hubsignal.erasure = 'x'", "UPDATE events SET payload = '{}' WHERE position = \(position)"],
                ["SELECT set_config('hubsignal.erasure', '\(Self.erasureID)', true)", "UPDATE events SET payload = '{}'"],
                ["UPDATE events SET payload = '{}' WHERE position = \(position)"],
                ["SET LOCAL hubsignal.erasure = 'x'", "DELETE FROM events WHERE position = \(position)"],
                ["SET LOCAL hubsignal.erasure = 'x'", "TRUNCATE events"],
                [
                    // A DO block whose statement text carries what the erasure's call stack would show.
                    """
                    DO $$ BEGIN UPDATE events SET payload = '{}' WHERE position = \(position) AND stream <> '
                    PL/pgSQL function public.hubsignal_erase_events(bigint[],text,text[]) line 9 at SQL statement'; END $$
                    """
                ],
                [
                    // A function of that name in another schema.
                    """
                    CREATE FUNCTION pg_temp.hubsignal_erase_events(bigint[], text, text[]) RETURNS bigint LANGUAGE plpgsql
                    AS $$ BEGIN UPDATE public.events SET payload = '{}' WHERE position = ANY($1); RETURN 1; END $$
                    """,
                    "SELECT pg_temp.hubsignal_erase_events(ARRAY[\(position)]::bigint[], 'x', '{}')",
                ],
            ] {
                let refused = await Self.failure(database.client, statements)
                #expect(refused == "HS001", "\(statements)")
            }
            #expect(try await Self.payload(database.client, position) == #"{"userId": "ada"}"#)
        }
    }

    @Test("an owner that is not a superuser is refused too, and its erasure function works")
    func aPlainOwner() async throws {
        try await TestPostgres.withDatabase { database in
            let position = try await Self.appendOne(database.client)
            try await Self.withRole(
                database, "hs_owner_",
                grants: [
                    "ALTER TABLE events OWNER TO $ROLE",
                    "ALTER TABLE event_keys OWNER TO $ROLE",
                    "ALTER FUNCTION hubsignal_erase_events(bigint[], text, text[]) OWNER TO $ROLE",
                ]
            ) { _, owner in
                let refused = await Self.failure(
                    owner, ["SET LOCAL hubsignal.erasure = 'x'", "UPDATE events SET payload = '{}' WHERE position = \(position)"])
                #expect(refused == "HS001")
                let count = try await owner.query(
                    "SELECT hubsignal_erase_events(ARRAY[\(position)]::bigint[], \(Self.erasureID), '{}')")[0].decode(Int64.self, at: 0)
                let payload = try await Self.payload(database.client, position)
                #expect(count == 1)
                #expect(payload == #"{"erased": "\#(Self.erasureID)"}"#)
            }
        }
    }

    @Test("the service role cannot UPDATE events even when granted UPDATE by mistake; EXECUTE on the function erases")
    func theServiceRole() async throws {
        try await TestPostgres.withDatabase { database in
            let erased = try await Self.appendOne(database.client, key: "m-1")
            let named = try await Self.appendOne(database.client, key: "ada-2")
            let other = try await Self.appendOne(database.client)
            try await Self.withRole(
                database, "hs_service_",
                grants: [
                    "GRANT SELECT, INSERT ON events TO $ROLE",
                    "GRANT EXECUTE ON FUNCTION hubsignal_erase_events(bigint[], text, text[]) TO $ROLE",
                ]
            ) { role, service in
                let update = ["SET LOCAL hubsignal.erasure = 'x'", "UPDATE events SET payload = '{}' WHERE position = \(other)"]
                let withoutPrivilege = await Self.failure(service, update)
                #expect(withoutPrivilege == "42501")
                try await database.client.execute("GRANT UPDATE, DELETE ON events TO \(identifier: role)")
                // The trigger refuses whatever the grants.
                let withPrivilege = await Self.failure(service, update)
                let delete = await Self.failure(service, ["DELETE FROM events WHERE position = \(other)"])
                #expect(withPrivilege == "HS001")
                #expect(delete == "HS001")
                try await database.client.execute("REVOKE UPDATE, DELETE ON events FROM \(identifier: role)")

                let count = try await service.query(
                    "SELECT hubsignal_erase_events(ARRAY[\(erased), \(named)]::bigint[], \(Self.erasureID), ARRAY['ada'])")[0]
                    .decode(Int64.self, at: 0)
                #expect(count == 2)
                // The key of an erased message stays (a retry is a duplicate) unless it names the person.
                let keys = try await database.client.query(
                    "SELECT idempotency_key FROM events WHERE position = ANY(\([erased, named])::bigint[]) ORDER BY position")
                    .map { try $0.decode(String.self, at: 0) }
                #expect(keys == ["m-1", "erased:\(named)"])
                let untouched = try await Self.payload(database.client, other)
                #expect(untouched == #"{"userId": "ada"}"#)
                let retry = await Self.failure(database.client, [
                    "INSERT INTO event_keys (source, idempotency_key) VALUES ('segment', 'm-1')"
                ])
                #expect(retry == "23505")
            }
        }
    }

    @Test("the erasure function runs nothing planted in public, and its search path is pg_catalog, pg_temp")
    func plantedFunctionsDoNotRunAsTheOwner() async throws {
        try await TestPostgres.withDatabase { database in
            let position = try await Self.appendOne(database.client)
            let settings = try await database.client.query(
                "SELECT prosecdef, array_to_string(proconfig, ';') FROM pg_proc WHERE proname = 'hubsignal_erase_events'")
            #expect(try settings.map { try $0.decode((Bool, String).self) }.map { "\($0.0) \($0.1)" } == ["true search_path=pg_catalog, pg_temp"])
            try await database.client.execute("CREATE TABLE planted_ran (who text)")
            try await database.client.execute("GRANT INSERT ON planted_ran TO PUBLIC")
            try await Self.withRole(
                database, "hs_attacker_",
                grants: [
                    "GRANT CREATE ON SCHEMA public TO $ROLE",
                    "GRANT EXECUTE ON FUNCTION hubsignal_erase_events(bigint[], text, text[]) TO $ROLE",
                ]
            ) { _, attacker in
                // Better matches than pg_catalog's for the calls an unqualified function body would make.
                for planted in [
                    """
                    CREATE FUNCTION public.jsonb_build_object(text, text) RETURNS jsonb LANGUAGE plpgsql AS $$
                    BEGIN INSERT INTO public.planted_ran VALUES (current_user); RETURN '{}'::jsonb; END $$
                    """,
                    """
                    CREATE FUNCTION public.starts_with(text, text) RETURNS boolean LANGUAGE plpgsql AS $$
                    BEGIN INSERT INTO public.planted_ran VALUES (current_user); RETURN false; END $$
                    """,
                    """
                    CREATE FUNCTION public.strpos(text, text) RETURNS integer LANGUAGE plpgsql AS $$
                    BEGIN INSERT INTO public.planted_ran VALUES (current_user); RETURN 0; END $$
                    """,
                ] {
                    try await attacker.execute(PQQuery(unsafeSQL: planted))
                }
                _ = try await attacker.query(
                    "SELECT hubsignal_erase_events(ARRAY[\(position)]::bigint[], \(Self.erasureID), ARRAY['ada'])")
            }
            #expect(try await database.client.query("SELECT who FROM planted_ran").isEmpty)
            #expect(try await Self.payload(database.client, position) == #"{"erased": "\#(Self.erasureID)"}"#)
        }
    }
}
