import Foundation
import PQ

/// The least-privileged role `serve` runs as, created with exactly the grant statements of docs/security.md.
public enum ServiceRole {
    /// The documented grant statements (docs/security.md, "Privileges": the first `sql` block after it) for the role
    /// `hubsignal_service`, without comments, the `CREATE ROLE` itself and the owner's membership in the role (the
    /// tests' owner is a superuser). The tests run exactly these, so the docs cannot promise grants that do not work.
    public static func documentedGrants() throws -> [String] {
        let document = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../docs/security.md")
        let text = try String(contentsOf: document, encoding: .utf8)
        guard let privileges = text.range(of: "**Privileges.**"),
            let open = text.range(of: "```sql\n", range: privileges.upperBound..<text.endIndex),
            let close = text.range(of: "```", range: open.upperBound..<text.endIndex)
        else {
            throw TestPostgresError("docs/security.md has no sql block after **Privileges.**")
        }
        let sql = text[open.upperBound..<close.lowerBound].split(separator: "\n", omittingEmptySubsequences: false)
            .map { line in line.range(of: "--").map { String(line[..<$0.lowerBound]) } ?? String(line) }
            .joined(separator: "\n")
        return sql.split(separator: ";")
            .map { $0.split(whereSeparator: \.isWhitespace).joined(separator: " ") }
            .filter { !$0.isEmpty && !$0.hasPrefix("CREATE ROLE ") && !$0.hasPrefix("GRANT hubsignal_service TO ") }
    }

    /// Creates a login role with the documented grants (``documentedGrants()``) on `database` and a client connected as it.
    public static func create(in database: TestDatabase, maximumConnections: Int = 8) async throws -> (role: String, client: PQClient) {
        let role = "hs_service_" + UUID().uuidString.prefix(8).lowercased()
        try await database.client.execute("CREATE ROLE \(identifier: role) LOGIN")
        for statement in try documentedGrants() {
            try await database.client.execute(PQQuery(unsafeSQL: statement.replacingOccurrences(of: "hubsignal_service", with: "\"\(role)\"")))
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
