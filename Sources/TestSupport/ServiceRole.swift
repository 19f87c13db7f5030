import Foundation
import PQ

/// The least-privileged role `serve` runs as, created with exactly the grants the README's Security section lists.
public enum ServiceRole {
    /// The README's grant statements (Security, "Privileges") for the role `hubsignal_service`; the tests run them
    /// with their own role name. No `CREATE` on the live schema or the database: a rebuild creates its tables in
    /// `hubsignal_rebuild` and swaps them in through `hubsignal_swap_read_models`.
    public static let grants = """
        GRANT SELECT, INSERT ON events TO hubsignal_service;
        GRANT SELECT ON hubsignal_migrations TO hubsignal_service;
        GRANT SELECT, INSERT, UPDATE ON subscription_checkpoints, projections TO hubsignal_service;
        GRANT SELECT, INSERT, DELETE ON rejections TO hubsignal_service;
        GRANT SELECT, INSERT, UPDATE, DELETE ON deliveries, delivery_workers, hubspot_event_outbox, onesignal_outbox,
            erasure_failures TO hubsignal_service;
        GRANT EXECUTE ON FUNCTION hubsignal_erase_events(bigint[], text, text[]) TO hubsignal_service;
        ALTER TABLE identities OWNER TO hubsignal_service;
        ALTER TABLE contacts OWNER TO hubsignal_service;
        ALTER TABLE contact_merges OWNER TO hubsignal_service;
        ALTER TABLE companies OWNER TO hubsignal_service;
        ALTER TABLE company_identities OWNER TO hubsignal_service;
        ALTER TABLE company_merges OWNER TO hubsignal_service;
        ALTER TABLE contact_companies OWNER TO hubsignal_service;
        ALTER TABLE audience_memberships OWNER TO hubsignal_service;
        ALTER TABLE devices OWNER TO hubsignal_service;
        ALTER TABLE message_activity OWNER TO hubsignal_service;
        ALTER TABLE sync_status OWNER TO hubsignal_service;
        GRANT USAGE, CREATE ON SCHEMA hubsignal_rebuild TO hubsignal_service;
        GRANT EXECUTE ON FUNCTION hubsignal_swap_read_models(text[]) TO hubsignal_service;
        REVOKE CREATE ON SCHEMA public FROM PUBLIC;
        """

    /// Creates a login role with ``grants`` on `database` and a client connected as it.
    public static func create(in database: TestDatabase, maximumConnections: Int = 8) async throws -> (role: String, client: PQClient) {
        let role = "hs_service_" + UUID().uuidString.prefix(8).lowercased()
        try await database.client.execute("CREATE ROLE \(identifier: role) LOGIN")
        for statement in grants.components(separatedBy: ";\n") where !statement.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            let sql = statement
                .replacingOccurrences(of: "hubsignal_service", with: "\"\(role)\"")
            try await database.client.execute(PQQuery(unsafeSQL: sql))
        }
        var configuration = PQClient.Configuration(connectionString: database.connectionString + " user=\(role)")
        configuration.maximumConnections = maximumConnections
        configuration.connectionWaitTimeout = .seconds(30)
        return (role, PQClient(configuration: configuration, logger: TestPostgres.logger))
    }

    /// Shuts `client` down and drops the role (what it owns goes back to the database's administrator).
    public static func drop(_ role: String, client: PQClient, in database: TestDatabase) async throws {
        await client.shutdown()
        try await database.client.execute("REASSIGN OWNED BY \(identifier: role) TO CURRENT_USER")
        try await database.client.execute("DROP OWNED BY \(identifier: role)")
        try await database.client.execute("DROP ROLE \(identifier: role)")
    }
}
