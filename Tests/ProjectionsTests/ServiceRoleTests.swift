import EventStore
import Foundation
import Mapping
import PQ
@testable import Projections
import TestSupport
import Testing

/// The projection and its rebuild work as the least-privileged service role docs/security.md describes (its Security
/// section's statements, `ServiceRole.documentedGrants()`), which may create nothing in the live schema nor in the database.
@Suite struct ServiceRoleTests {
    @Test func theProjectionAndARebuildRunWithTheDocumentedGrants() async throws {
        try await TestPostgres.withDatabase { database in
            var log = ProjectionHarness(database)
            try await log.append(.identify, #"{"type":"identify","userId":"u1","traits":{"plan":"pro"}}"#)
            let grants = try ServiceRole.documentedGrants()
            #expect(grants.count >= 15)
            #expect(grants.contains("GRANT EXECUTE ON FUNCTION hubsignal_erase_events(bigint[], text, text[]) TO hubsignal_service"))
            #expect(!grants.contains { $0.hasPrefix("GRANT") && ($0.contains("CREATE ON SCHEMA public") || $0.contains("CREATE ON DATABASE")) })
            let (role, client) = try await ServiceRole.create(in: database)
            do {
                let privileges = try await database.client.query(
                    """
                    SELECT has_schema_privilege(\(role), current_schema(), 'CREATE'),
                           has_database_privilege(\(role), current_database(), 'CREATE')
                    """)[0].decode((Bool, Bool).self)
                #expect(privileges == (false, false))

                let store = EventStore(client: client, logger: TestPostgres.logger)
                let service = PeopleProjectionService(
                    store: store, watcher: LogWatcher(), mapping: .defaults, autoRebuild: true, logger: TestPostgres.logger)
                try await service.prepare()
                let subscription = service.makeSubscription()
                let deadline = ContinuousClock.now + .seconds(60)
                while ContinuousClock.now < deadline, try await subscription.processNextBatch() != .idle(isHeldBack: false) {
                    try await Task.sleep(for: .milliseconds(10))
                }
                #expect(try await log.count("SELECT count(*) FROM contacts") == 1)

                let changed = try Mapping.parse("version: 1\ncontacts:\n  properties:\n    plan: plan_tier\n")
                try await ProjectionRebuild(store: store, mapping: changed, logger: TestPostgres.logger).run()
                #expect(try await log.strings("SELECT hubspot_properties->>'plan_tier' FROM contacts") == ["pro"])
                #expect(try await log.strings("SELECT tableowner::text FROM pg_tables WHERE tablename = 'contacts'") == [role])
                #expect(try await log.count("SELECT count(*) FROM pg_tables WHERE schemaname = 'hubsignal_rebuild'") == 0)
                // A second rebuild finds the shadow schema as the first left it.
                try await ProjectionRebuild(store: store, mapping: .defaults, logger: TestPostgres.logger).run()
                #expect(try await log.count("SELECT count(*) FROM contacts WHERE user_id = 'u1'") == 1)

                // The swap moves nothing but the projection's tables.
                try await client.execute("CREATE TABLE hubsignal_rebuild.events (position bigint)")
                await #expect(throws: PQError.self) {
                    _ = try await client.query("SELECT hubsignal_swap_read_models(ARRAY['events'])")
                }
                try await ServiceRole.drop(role, client: client, in: database)
            } catch {
                try? await ServiceRole.drop(role, client: client, in: database)
                throw error
            }
        }
    }
}
