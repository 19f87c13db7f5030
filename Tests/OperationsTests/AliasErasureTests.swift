import Domain
import EventStore
import Foundation
import Operations
import PQ
import Testing
import TestSupport

/// An alias's `previousId` is one of the person's identities whichever field a later call names it in, so erasure
/// and the audit trail find those calls too.
@Suite struct AliasErasureTests {
    @Test func erasingAPersonErasesCallsNamingTheirPreviousIDAsAUserID() async throws {
        try await TestPostgres.withDatabase { database in
            var log = ProjectionHarness(database)
            try await log.append(.alias, #"{"type":"alias","previousId":"prev-ada-7","userId":"ada-7"}"#)
            try await log.append(.identify, #"{"type":"identify","userId":"ada-7","traits":{"email":"ada7@example.com"}}"#)
            // An older client still names her by the previous id, once as a userId, once as an anonymousId.
            try await log.append(.track, #"{"type":"track","userId":"prev-ada-7","event":"Paid","properties":{"card":"4242-ada"}}"#)
            try await log.append(.page, #"{"type":"page","anonymousId":"prev-ada-7","name":"Receipt"}"#)
            try await log.append(.identify, #"{"type":"identify","userId":"bob-7","traits":{"email":"bob7@example.com"}}"#)
            try await log.project()

            let trail = ContactAuditTrail(store: log.store)
            let found = try #require(try await trail.resolve(.userID("prev-ada-7")))
            #expect(try await trail.resolve(.userID("ada-7"))?.contactID == found.contactID)
            let types = try await trail.events(contactID: found.contactID, limit: 100).events.map(\.type)
            #expect(types.filter { $0 == .track || $0 == .page }.count == 2, "\(types)")

            let report = try await Erasure(client: log.client, store: log.store).erase(.userID("ada-7"))
            #expect(report.contactIDs == [found.contactID])
            try await log.project()
            #expect(try await log.count("SELECT count(*) FROM events WHERE payload::text LIKE '%prev-ada-7%' OR payload::text LIKE '%4242-ada%'") == 0)
            #expect(try await log.strings("SELECT user_id FROM contacts") == ["bob-7"])
        }
    }
}
