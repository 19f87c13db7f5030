import EventStore
import Foundation
import Mapping
import PQ
@testable import Projections
import TestSupport
import Testing

/// The projection and its rebuild work as the least-privileged service role the README describes.
@Suite struct ServiceRoleTests {
    @Test func theProjectionAndARebuildRunWithTheDocumentedGrants() async throws {
        try await TestPostgres.withDatabase { database in
            var log = ProjectionHarness(database)
            try await log.append("segment.identify", #"{"type":"identify","userId":"u1","traits":{"plan":"pro"}}"#)
            let role = "hs_service_" + UUID().uuidString.prefix(8).lowercased()
            let admin = database.client
            try await admin.execute("CREATE ROLE \(identifier: role) LOGIN")
            try await admin.execute("GRANT SELECT, INSERT ON events, rejections TO \(identifier: role)")
            try await admin.execute("GRANT SELECT, INSERT, UPDATE ON subscription_checkpoints TO \(identifier: role)")
            try await admin.execute("GRANT SELECT ON hubsignal_migrations TO \(identifier: role)")
            try await admin.execute("GRANT SELECT, INSERT, UPDATE ON projections TO \(identifier: role)")
            for table in PeopleTables.names {
                try await admin.execute("ALTER TABLE \(identifier: table) OWNER TO \(identifier: role)")
            }
            try await admin.execute("GRANT CREATE ON DATABASE \(identifier: database.name) TO \(identifier: role)")
            try await admin.execute("GRANT CREATE ON SCHEMA public TO \(identifier: role)")

            let client = PQClient(
                configuration: .init(connectionString: database.connectionString + " user=\(role)"), logger: TestPostgres.logger)
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

            await client.shutdown()
            try await admin.execute("REASSIGN OWNED BY \(identifier: role) TO CURRENT_USER")
            try await admin.execute("DROP OWNED BY \(identifier: role)")
            try await admin.execute("DROP ROLE \(identifier: role)")
        }
    }
}
