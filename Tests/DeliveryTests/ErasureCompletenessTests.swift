import Delivery
import Domain
import EventStore
import Foundation
import HubSpot
import Operations
import PQ
import Testing
import TestSupport

/// An erasure leaves nothing behind that races, retries or sync workers bring back (issue 18, item 9).
@Suite("erasure is complete: concurrent appends, retries, claimed work, results of unresolved records, forwarding", .serialized)
struct ErasureCompletenessTests {
    static let ada = "ada-lovelace-1815"
    static let personal = [ada, "ada.lovelace@example.com", "Augusta"]

    /// Ada identified (with her email) and projected; returns her contact id.
    static func identifyAda(_ log: inout ProjectionHarness, messageID: String = UUID().uuidString) async throws -> String {
        _ = try await log.store.append([
            NewEvent(
                stream: "user:\(ada)", type: .identify, source: .segment, idempotencyKey: messageID, occurredAt: Date(),
                payload: PQJSONB(#"{"type":"identify","userId":"\#(ada)","traits":{"email":"ada.lovelace@example.com"},"messageId":"\#(messageID)"}"#))
        ])
        try await log.project()
        return try await log.strings("SELECT contact_id FROM identities WHERE value = \(ada)")[0]
    }

    @Test("an event committed by a transaction running during the erasure is erased too")
    func concurrentAppend() async throws {
        try await TestPostgres.withDatabase { database in
            var log = ProjectionHarness(database)
            _ = try await Self.identifyAda(&log)
            let (insertion, inserted) = AsyncStream<Void>.makeStream()
            // A request's transaction: it appends before the erasure starts and commits after the erasure committed.
            let appender = Task {
                try await database.client.withTransaction { connection in
                    try await connection.execute(
                        """
                        WITH key AS (INSERT INTO event_keys (source, idempotency_key) VALUES ('segment', 'late-1') RETURNING position)
                        INSERT INTO events (position, stream, type, source, idempotency_key, occurred_at, payload)
                        SELECT position, 'user:ada-lovelace-1815', 'segment.track', 'segment', 'late-1', now(),
                               '{"type":"track","userId":"ada-lovelace-1815","event":"Late"}' FROM key
                        """)
                    inserted.yield()
                    try await Task.sleep(for: .seconds(1))
                }
            }
            for await _ in insertion { break }
            let report = try await Erasure(client: database.client, store: log.store).erase(.userID(Self.ada))
            try await appender.value
            #expect(report.events == 2)
            try await log.project()
            let left = try await ErasureTests.mentions(database.client, Self.personal)
            #expect(left == [:])
        }
    }

    @Test("the erasure works on connections that log bound parameters with errors (a call-stack line of their own)")
    func parameterLogging() async throws {
        try await TestPostgres.withDatabase { database in
            var log = ProjectionHarness(database)
            _ = try await Self.identifyAda(&log)
            var parts = try PQConnectionString.parse(database.connectionString)
            parts.append((key: "options", value: "-c log_parameter_max_length_on_error=1000"))
            let client = PQClient(
                configuration: .init(connectionString: parts.map { "\($0.key)='\($0.value)'" }.joined(separator: " ")),
                logger: TestPostgres.logger)
            do {
                let report = try await Erasure(client: client, store: EventStore(client: client, logger: TestPostgres.logger))
                    .erase(.userID(Self.ada))
                #expect(report.events == 1)
            } catch {
                await client.shutdown()
                throw error
            }
            await client.shutdown()
        }
    }

    @Test("a client's retry of an erased message is a duplicate: nothing is stored")
    func retryOfAnErasedMessage() async throws {
        try await TestPostgres.withDatabase { database in
            var log = ProjectionHarness(database)
            let messageID = "ajs-next-1f0c2d9e-5b7a-4c3e-9d8f-0a1b2c3d4e5f"
            _ = try await Self.identifyAda(&log, messageID: messageID)
            _ = try await Erasure(client: database.client, store: log.store).erase(.userID(Self.ada))
            let before = try await log.count("SELECT count(*) FROM events")
            _ = try await log.store.append([
                NewEvent(
                    stream: "user:\(Self.ada)", type: .identify, source: .segment, idempotencyKey: messageID, occurredAt: Date(),
                    payload: PQJSONB(#"{"type":"identify","userId":"\#(Self.ada)","traits":{"email":"ada.lovelace@example.com"}}"#))
            ])
            #expect(try await log.count("SELECT count(*) FROM events") == before)
            try await log.project()
            let left = try await ErasureTests.mentions(database.client, Self.personal)
            #expect(left == [:])
        }
    }

    @Test("a push a sync worker holds during the erasure: its result is erased, its ledger row deleted, nothing claimable")
    func claimedWork() async throws {
        try await TestPostgres.withDatabase { database in
            var log = ProjectionHarness(database)
            let contact = try await Self.identifyAda(&log)
            #expect(try await log.count("SELECT count(*) FROM sync_status WHERE contact_id = \(contact)") > 0)
            try await database.client.execute(
                """
                INSERT INTO deliveries (destination, object_kind, object_key, state, attempts, leased_until, lease_owner)
                VALUES ('hubspot', 'contact', \(contact), 'queued', 0, now() + interval '1 minute', 'worker-1')
                """)
            let store = log.store
            let worker = Task {
                try await Task.sleep(for: .milliseconds(500))
                // The worker's push ends after the erasure committed: its result event and outcome, in one transaction.
                try await DeliveryLedger(client: database.client).finish(
                    kind: .contact, outcomes: [contact: .done(desiredHash: "h")],
                    events: [
                        NewEvent(
                            stream: "contact:\(contact)", type: .hubSpotContactSynced, source: .hubsignal,
                            idempotencyKey: "contact_synced:\(contact):1", occurredAt: Date(),
                            payload: PQJSONB(
                                #"{"contactId":"\#(contact)","hubspotId":"501501","properties":{"email":"ada.lovelace@example.com","firstname":"Augusta"}}"#))
                    ], owner: "worker-1", store: store)
            }
            _ = try await Erasure(client: database.client, store: store).erase(.userID(Self.ada))
            try await worker.value
            try await log.project()
            let left = try await ErasureTests.mentions(database.client, Self.personal)
            #expect(left == [:])
            #expect(try await log.count("SELECT count(*) FROM deliveries WHERE object_key = \(contact)") == 0)
            // Not claimable again before the projection applies the erasure.
            #expect(try await log.count("SELECT count(*) FROM sync_status WHERE contact_id = \(contact)") == 0)
        }
    }

    @Test("event and notification ledger rows with HubSpot's error text, and results of unresolved custom object records")
    func ledgerRowsAndResultsOfUnresolvedRecords() async throws {
        try await TestPostgres.withDatabase { database in
            var log = ProjectionHarness(database)
            let contact = try await Self.identifyAda(&log)
            try await log.append(
                .hubSpotContactSynced, #"{"contactId":"\#(contact)","hubspotId":"501501","properties":{}}"#, source: .hubsignal)
            let track = try await log.append(
                .track,
                #"{"type":"track","userId":"\#(Self.ada)","event":"Order Completed","properties":{"order_email":"ada.lovelace@example.com"}}"#)
            _ = try await log.store.append([
                NewEvent(
                    stream: "hubspot-contact:501501", type: .sendNotification, source: .hubspot, idempotencyKey: "ap-ada",
                    occurredAt: Date(),
                    payload: PQJSONB(#"{"callbackId":"ap-ada","object":{"objectId":501501,"objectType":"CONTACT"},"inputFields":{"content":"hi"}}"#))
            ])
            try await log.project()
            // A custom object record HubSignal could not tie to a contact: its result keeps the search values.
            try await log.append(
                .hubSpotObjectSynced,
                #"{"position":\#(track),"rule":"orders","objectType":"p_orders","hubspotId":"9","search":{"order_email":"ada.lovelace@example.com"},"searchKey":"order_email=ada.lovelace@example.com"}"#,
                source: .hubsignal)
            try await log.append(
                .hubSpotEventFailed,
                #"{"position":\#(track),"rule":"orders","objectType":"p_orders","reason":"Property values were not valid: ada.lovelace@example.com"}"#,
                source: .hubsignal)
            try await database.client.execute(
                """
                INSERT INTO deliveries (destination, object_kind, object_key, state, attempts, last_error) VALUES
                    ('hubspot', 'event', \("\(track):orders"), 'dead', 1, 'Property "order_email" value ada.lovelace@example.com is invalid'),
                    ('hubspot', 'event', \(String(track)), 'dead', 1, 'Augusta is not a valid value'),
                    ('onesignal', 'notification', 'ap-ada', 'dead', 1, 'Augusta: no subscribed player')
                """)
            #expect(!(try await ErasureTests.mentions(database.client, Self.personal)).isEmpty)
            _ = try await Erasure(client: database.client, store: log.store).erase(.userID(Self.ada))
            try await log.project()
            let left = try await ErasureTests.mentions(database.client, Self.personal)
            #expect(left == [:])
            #expect(try await log.count("SELECT count(*) FROM deliveries") == 0)
        }
    }

    @Test("a workflow notification claimed before the erasure and not yet sent is not sent")
    func claimedNotificationIsSkipped() async throws {
        try await OneSignalHarness.run { harness in
            for (user, hubSpotID) in [("bob-builder-1", "601"), (Self.ada, "501501")] {
                try harness.sandbox.seedUser(appID: harness.appID, externalID: user)
                try await harness.identify(user, #"{"firstName":"X"}"#)
                try await harness.projection.project()
                let contact = try await harness.projection.strings("SELECT contact_id FROM identities WHERE value = \(user)")[0]
                try await harness.projection.append(
                    .hubSpotContactSynced, #"{"contactId":"\#(contact)","hubspotId":"\#(hubSpotID)","properties":{}}"#,
                    source: .hubsignal)
            }
            try await harness.projection.project()
            // Bob's notification first; OneSignal takes a second to answer it, while Ada is erased.
            try await harness.workflowAction("send_notification", callbackID: "ap-bob", objectID: "601", inputs: #"{"content":"Hi"}"#)
            try await harness.workflowAction("send_notification", callbackID: "ap-ada", objectID: "501501", inputs: #"{"content":"Hi"}"#)
            try await harness.projection.project()
            let worker = harness.worker(completes: false)
            harness.sandbox.faults.inject(.latency(.seconds(1)), pathPrefix: "/notifications")
            let round = Task { try await worker.runOnce() }
            // Once the worker holds both notifications (it is sending Bob's), Ada is erased.
            let claimed = ContinuousClock.now + .seconds(30)
            while try await harness.projection.count(
                "SELECT count(*) FROM deliveries WHERE object_kind = 'notification' AND leased_until > now()") < 2
            {
                try #require(ContinuousClock.now < claimed, "the worker did not claim the notifications")
                try await Task.sleep(for: .milliseconds(10))
            }
            _ = try await Erasure(client: harness.client, store: harness.projection.store).erase(.hubSpotID("501501"))
            _ = try await round.value
            let sent = harness.sandbox.requests.all.filter { $0.method == "POST" && $0.path.hasPrefix("/notifications") }
            #expect(sent.count == 1)
            #expect(sent.allSatisfy { !String(decoding: $0.body, as: UTF8.self).contains(Self.ada) })
            try await harness.projection.project()
            let left = try await ErasureTests.mentions(harness.client, Self.personal)
            #expect(left == [:])
        }
    }

    @Test("--forward deletes at HubSpot by HubSpot id when no email is known, and reports no forwarding it did not do")
    func forwardByHubSpotID() async throws {
        try await OneSignalHarness.run { harness in
            let created = try await harness.hubSpotClient.upsert(
                [HubSpotUpsertInput(id: "ada.lovelace@example.com", idProperty: "email", properties: ["firstname": "Augusta"])],
                objectType: "contacts")
            let hubSpotID = created.results[0].id
            try await harness.identify(Self.ada, #"{"firstName":"Augusta"}"#)
            try await harness.identify("bob-builder-1", #"{"firstName":"Bob"}"#)
            try await harness.projection.project()
            let contact = try await harness.projection.strings("SELECT contact_id FROM identities WHERE value = \(Self.ada)")[0]
            try await harness.projection.append(
                .hubSpotContactSynced, #"{"contactId":"\#(contact)","hubspotId":"\#(hubSpotID)","properties":{}}"#,
                source: .hubsignal)
            try await harness.projection.project()
            let erasure = Erasure(client: harness.client, store: harness.projection.store)

            let ada = try await erasure.erase(.userID(Self.ada), hubSpot: harness.hubSpotClient)
            #expect(ada.forwarded == ["hubspot"])
            #expect(harness.hubSpot.contact(id: hubSpotID) == nil)

            let bob = try await erasure.erase(.userID("bob-builder-1"), hubSpot: harness.hubSpotClient)
            #expect(bob.forwarded == [])
            #expect(bob.notForwarded == ["hubspot"])
        }
    }
}
