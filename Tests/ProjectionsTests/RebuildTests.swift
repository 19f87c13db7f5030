import EventStore
import Foundation
import Mapping
import PQ
@testable import Projections
import Synchronization
import TestSupport
import Testing

@Suite struct RebuildTests {
    @Test func aMappingChangeRebuildsWithTheSameIDsAndKeepsHubSpotIDs() async throws {
        try await TestPostgres.withDatabase { database in
            var log = ProjectionHarness(database)
            var positions: [Int64] = []
            for user in 0..<30 {
                positions.append(
                    try await log.append(
                        .identify, #"{"type":"identify","userId":"u\#(user)","traits":{"email":"u\#(user)@example.com","plan":"pro"}}"#))
            }
            try await log.append(.alias, #"{"type":"alias","previousId":"u1","userId":"u2"}"#)
            try await log.project(.defaults)
            let before = try await log.strings("SELECT contact_id FROM contacts ORDER BY contact_id")
            #expect(before.count == 29)
            try await log.append(.hubSpotContactSynced, #"{"contactId":"c_\#(positions[5])","hubspotId":"7005"}"#, source: .hubsignal)
            try await log.project(.defaults)

            let changed = try Mapping.parse(
                """
                version: 1
                contacts:
                  properties:
                    plan: { property: plan_tier, type: string }
                """)
            #expect(changed.version != Mapping.defaults.version)

            // Queries keep working, and see a whole model, while the rebuild runs.
            let reads = Mutex<[Int]>([])
            let done = Atomic(false)
            let observer = log
            async let reader: Void = {
                while !done.load(ordering: .relaxed) {
                    let count = try await observer.count("SELECT count(*) FROM contacts")
                    reads.withLock { $0.append(count) }
                    try await Task.sleep(for: .milliseconds(2))
                }
            }()
            let replayed = try await ProjectionRebuild(store: log.store, mapping: changed, logger: TestPostgres.logger).run()
            done.store(true, ordering: .relaxed)
            try await reader
            #expect(replayed == 32)
            #expect(reads.withLock { $0.allSatisfy { $0 == 29 } })

            #expect(try await log.strings("SELECT contact_id FROM contacts ORDER BY contact_id") == before)
            #expect(try await log.strings("SELECT hubspot_contact_id FROM contacts WHERE hubspot_contact_id IS NOT NULL") == ["7005"])
            #expect(try await log.count("SELECT count(*) FROM contacts WHERE hubspot_properties->>'plan_tier' = 'pro'") == 29)
            #expect(try await log.count("SELECT count(*) FROM contact_merges") == 1)
            let status = try await ProjectionRebuild.status(client: log.client)
            #expect(status.version == PeopleProjection.version(mapping: changed))
            #expect(status.rebuiltAt != nil)
            // Nothing left in the shadow schema (the schema itself is the migrations', kept for the next rebuild).
            #expect(
                try await log.count(
                    "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname LIKE 'hubsignal_%'") == 0)

            // The live projection continues from the swapped-in tables with the new mapping.
            try await log.append(.identify, #"{"type":"identify","userId":"u99","traits":{"plan":"free"}}"#)
            try await log.project(changed)
            #expect(try await log.count("SELECT count(*) FROM contacts WHERE hubspot_properties->>'plan_tier' IS NOT NULL") == 30)

            // A process still running the old mapping refuses to write into the rebuilt tables.
            try await log.append(.identify, #"{"type":"identify","userId":"u100"}"#)
            let stale = PeopleProjectionService(
                store: log.store, watcher: LogWatcher(), mapping: .defaults, autoRebuild: false, logger: TestPostgres.logger)
            // (Other tests' transactions can hold the reader back for a moment: retry until the batch is read.)
            let subscription = stale.makeSubscription()
            await #expect(throws: ProjectionError.self) {
                let deadline = ContinuousClock.now + .seconds(60)
                while ContinuousClock.now < deadline {
                    if try await subscription.processNextBatch() != .idle(isHeldBack: true) { return }
                    try await Task.sleep(for: .milliseconds(10))
                }
            }
            await #expect(throws: ProjectionError.self) { try await stale.prepare() }
        }
    }

    @Test func serveRebuildsByItselfAfterAMappingChange() async throws {
        try await TestPostgres.withDatabase { database in
            var log = ProjectionHarness(database)
            try await log.append(.identify, #"{"type":"identify","userId":"u1","traits":{"plan":"pro"}}"#)
            try await log.project(.defaults)
            let changed = try Mapping.parse("version: 1\ncontacts:\n  properties:\n    plan: plan_tier\n")
            // `project` runs the service's start-up check, which rebuilds because the version differs.
            try await log.project(changed)
            #expect(try await log.strings("SELECT hubspot_properties->>'plan_tier' FROM contacts") == ["pro"])
            #expect(try await ProjectionRebuild.status(client: log.client).rebuiltAt != nil)
        }
    }

    @Test func aRebuildRunsWithoutTheStatementTimeoutOfTheService() async throws {
        try await TestPostgres.withDatabase { database in
            var log = ProjectionHarness(database)
            for user in 0..<5 {
                try await log.append(.identify, #"{"type":"identify","userId":"u\#(user)","traits":{"plan":"pro"}}"#)
            }
            try await log.project(.defaults)
            var parts = try PQConnectionString.parse(database.connectionString)
            parts.append((key: "options", value: "-c statement_timeout=200ms"))
            let client = PQClient(
                configuration: .init(connectionString: parts.map { "\($0.key)='\($0.value)'" }.joined(separator: " ")),
                logger: TestPostgres.logger)
            let changed = try Mapping.parse("version: 1\ncontacts: { properties: { plan: { property: plan_tier, type: string } } }")
            do {
                // A reader holds the live tables for a second: the swap waits for it longer than the service's timeout.
                let store = EventStore(client: client, logger: TestPostgres.logger)
                let rebuild = try await database.client.withTransaction { reader in
                    try await reader.execute("SELECT count(*) FROM contacts")
                    let rebuild = Task { try await ProjectionRebuild(store: store, mapping: changed, logger: TestPostgres.logger).run() }
                    try await Task.sleep(for: .seconds(1))
                    return rebuild
                }
                #expect(try await rebuild.value == 5)
                #expect(try await log.count("SELECT count(*) FROM contacts WHERE hubspot_properties->>'plan_tier' = 'pro'") == 5)
                let timeout = try await client.query("SHOW statement_timeout")[0].decode(String.self, at: 0)
                #expect(timeout == "200ms")
            } catch {
                await client.shutdown()
                throw error
            }
            await client.shutdown()
        }
    }

}
