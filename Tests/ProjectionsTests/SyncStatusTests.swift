import EventStore
import Mapping
import Foundation
import PQ
@testable import Projections
import TestSupport
import Testing

@Suite struct SyncStatusTests {
    func states(_ log: ProjectionHarness) async throws -> [String] {
        try await log.client.query("SELECT destination, state, coalesce(reason, '-') FROM sync_status ORDER BY destination")
            .map { row in
                let (destination, state, reason) = try row.decode((String, String, String).self)
                return "\(destination) \(state)" + (state == "failed" ? " \(reason)" : "")
            }
    }

    @Test func desiredAgainstAcknowledgedPerDestination() async throws {
        try await TestPostgres.withDatabase { database in
            var log = ProjectionHarness(database)
            try await log.append(.identify, #"{"type":"identify","userId":"u1","traits":{"plan":"pro","firstName":"Ada"}}"#)
            try await log.project()
            #expect(try await states(log) == ["hubspot waiting", "onesignal pending"])
            let contact = try await log.strings("SELECT contact_id FROM contacts")[0]
            let desiredTags = try await log.strings("SELECT desired::text FROM sync_status WHERE destination = 'onesignal'")
            #expect(desiredTags == [#"{"plan": "pro", "first_name": "Ada"}"#])

            try await log.append(.identify, #"{"type":"identify","userId":"u1","traits":{"email":"ada@example.com"}}"#)
            try await log.project()
            #expect(try await states(log) == ["hubspot pending", "onesignal pending"])

            let desired = try await log.strings("SELECT desired::text FROM sync_status WHERE destination = 'hubspot'")[0]
            try await log.append(
                .hubSpotContactSynced, #"{"contactId":"\#(contact)","hubspotId":"901","properties":\#(desired)}"#,
                source: .hubsignal)
            try await log.append(
                .oneSignalDeliveryFailed, #"{"contactId":"\#(contact)","reason":"tag limit reached"}"#, source: .hubsignal)
            try await log.project()
            #expect(try await states(log) == ["hubspot in_sync", "onesignal failed tag limit reached"])

            try await log.append(
                .oneSignalUserSynced, #"{"contactId":"\#(contact)","tags":{"plan":"pro","first_name":"Ada"}}"#,
                source: .hubsignal)
            try await log.project()
            #expect(try await states(log) == ["hubspot in_sync", "onesignal in_sync"])
            // The OneSignal user, with its tags as last pushed.
            #expect(try await log.strings("SELECT app || ' ' || device_key || ' ' || tags::text FROM devices") == [
                #"default user:u1 {"plan": "pro", "first_name": "Ada"}"#
            ])

            // A new value makes both pending again.
            try await log.append(.identify, #"{"type":"identify","userId":"u1","traits":{"firstName":"Augusta"}}"#)
            try await log.project()
            #expect(try await states(log) == ["hubspot pending", "onesignal pending"])

            // A rebuild reproduces the same state from the log.
            let before = try await log.strings("SELECT contact_id || destination || state || desired::text || coalesce(acknowledged::text, '') FROM sync_status ORDER BY 1")
            try await ProjectionRebuild(store: log.store, mapping: .defaults, logger: TestPostgres.logger).run()
            let after = try await log.strings("SELECT contact_id || destination || state || desired::text || coalesce(acknowledged::text, '') FROM sync_status ORDER BY 1")
            #expect(after == before)
        }
    }

    @Test func audiencesAreDesiredPropertiesAndTagsWithinTheTagLimit() async throws {
        try await TestPostgres.withDatabase { database in
            var log = ProjectionHarness(database)
            try await log.append(
                .identify,
                #"{"type":"identify","userId":"u1","traits":{"email":"u1@example.com","alpha":"1","beta":"2","gamma":"3","vip":true},"context":{"personas":{"computation_class":"audience","computation_key":"vip"}}}"#)
            let mapping = try Mapping.parse("version: 1\nonesignal:\n  tag_limit: 3\n")
            try await log.project(mapping)
            #expect(try await log.strings("SELECT hubspot_properties->>'vip' FROM contacts") == ["true"])
            #expect(try await log.strings("SELECT desired->>'vip' FROM sync_status WHERE destination = 'hubspot'") == ["true"])
            // Three tags allowed: the audience's, then trait tags by name.
            let tags = try await log.strings(
                "SELECT string_agg(key, ',' ORDER BY key) FROM sync_status, jsonb_each_text(desired) WHERE destination = 'onesignal' AND value IS NOT NULL")
            #expect(tags == ["alpha,beta,vip"])
        }
    }
}
