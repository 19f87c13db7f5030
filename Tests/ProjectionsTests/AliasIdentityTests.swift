import EventStore
import Foundation
import Mapping
import PQ
@testable import Projections
import TestSupport
import Testing

/// Segment's `alias`: `previousId` is a previous userId *or* anonymousId, so later calls may name it as either.
@Suite struct AliasIdentityTests {
    @Test func anAliasOfAnUnseenIDIsFoundByLaterCallsUnderEitherField() async throws {
        try await TestPostgres.withDatabase { database in
            var log = ProjectionHarness(database)
            let alias = try await log.append(.alias, #"{"type":"alias","previousId":"p-7","userId":"u-7"}"#)
            try await log.project()
            // The previous id used as a userId, then as an anonymousId: the same contact, no second one.
            try await log.append(.track, #"{"type":"track","event":"Paid","userId":"p-7"}"#)
            try await log.append(.page, #"{"type":"page","name":"Home","anonymousId":"p-7"}"#)
            try await log.project()
            #expect(try await log.strings("SELECT contact_id FROM contacts") == ["c_\(alias)"])
            #expect(try await log.count("SELECT count(*) FROM contact_merges") == 0)
            let identities = try await log.strings(
                "SELECT kind || ':' || value || ' ' || contact_id FROM identities ORDER BY kind, value")
            #expect(identities == ["anonymous_id:p-7 c_\(alias)", "user_id:p-7 c_\(alias)", "user_id:u-7 c_\(alias)"])
        }
    }

    @Test func anAliasOfAKnownAnonymousIDIsFoundByALaterUserID() async throws {
        try await TestPostgres.withDatabase { database in
            var log = ProjectionHarness(database)
            let visit = try await log.append(.page, #"{"type":"page","name":"Pricing","anonymousId":"anon-3"}"#)
            try await log.append(.identify, #"{"type":"identify","userId":"u-3","traits":{"plan":"pro"}}"#)
            try await log.append(.alias, #"{"type":"alias","previousId":"anon-3","userId":"u-3"}"#)
            // An older client still sends the previous id in the userId field.
            try await log.append(.identify, #"{"type":"identify","userId":"anon-3","traits":{"city":"Lyon"}}"#)
            try await log.project()
            #expect(try await log.strings("SELECT contact_id FROM contacts") == ["c_\(visit)"])
            let traits = try await log.strings("SELECT traits::text FROM contacts")
            #expect(traits.first?.contains("Lyon") == true && traits.first?.contains("pro") == true)
            #expect(
                try await log.strings("SELECT DISTINCT contact_id FROM identities WHERE value IN ('anon-3', 'u-3')") == ["c_\(visit)"])
        }
    }

    @Test func aRebuildGivesTheSameContactsAndIdentities() async throws {
        try await TestPostgres.withDatabase { database in
            var log = ProjectionHarness(database)
            try await log.append(.track, #"{"type":"track","event":"Viewed","anonymousId":"anon-9"}"#)
            try await log.append(.alias, #"{"type":"alias","previousId":"p-9","userId":"u-9"}"#)
            try await log.append(.alias, #"{"type":"alias","previousId":"anon-9","userId":"u-9"}"#)
            try await log.append(.track, #"{"type":"track","event":"Paid","userId":"p-9"}"#)
            try await log.append(.identify, #"{"type":"identify","userId":"anon-9","traits":{"email":"nine@example.com"}}"#)
            try await log.project()
            let snapshot: PQQuery = """
                SELECT kind || ':' || value || ' ' || contact_id FROM identities
                UNION ALL SELECT 'contact ' || contact_id FROM contacts
                UNION ALL SELECT 'merge ' || merged_contact_id || ' ' || into_contact_id || ' ' || reason FROM contact_merges
                ORDER BY 1
                """
            let live = try await log.strings(snapshot)
            #expect(try await log.count("SELECT count(*) FROM contacts") == 1)
            try await ProjectionRebuild(store: log.store, mapping: .defaults, logger: TestPostgres.logger).run()
            #expect(try await log.strings(snapshot) == live)
        }
    }
}
