@testable import Delivery
import Operations
import Domain
import EventStore
import Foundation
import OneSignalSandbox
import PQ
import SandboxKit
import Testing
import TestSupport

/// "Never send a workflow notification older than a day", checked when it is sent (not only when it is queued), and
/// the end of retries that cannot pass (`401`/`403`) once HubSpot no longer waits for the action.
@Suite("Workflow notifications: the one-day age limit", .serialized)
struct NotificationAgeTests {
    @Test("an action queued fresh but not sent within a day is never sent: a dead letter with the reason, in the log and in status")
    func anExpiredActionIsNotSent() async throws {
        try await OneSignalHarness.run { harness in
            try Self.seedUser(harness)
            try await harness.workflowAction(
                "send_notification", callbackID: "ap-old-1", objectID: "601", inputs: #"{"external_id":"u1","content":"Hi"}"#)
            // Queued while fresh; the sync was down for more than a day.
            try await Self.queue(harness)
            try await Self.age(harness)

            try await harness.settle([harness.worker()], timeout: .seconds(20))
            #expect(harness.sandbox.notifications(appID: harness.appID).isEmpty)
            #expect(harness.sandbox.requests.all.filter { $0.path.hasPrefix("/notifications") }.isEmpty)
            #expect(harness.hubSpot.callbackCompletions().isEmpty, "HubSpot no longer waits for it")
            try await Self.expectDeadLetter(harness, event: "hubsignal.onesignal.notification_failed", reason: "not sent")
        }
    }

    @Test("401 answers to the send are retried while the action is younger than a day, then it is a dead letter")
    func unauthorizedSendsEndOnceTheActionIsADayOld() async throws {
        try await OneSignalHarness.run { harness in
            try Self.seedUser(harness)
            try await harness.workflowAction(
                "send_notification", callbackID: "ap-old-2", objectID: "602", inputs: #"{"external_id":"u1","content":"Hi"}"#)
            harness.sandbox.faults.inject(.status(401), times: 1_000, pathPrefix: "/notifications")
            let worker = harness.worker()
            try await Self.retryUntil(harness, worker, "the send was refused three times") { $0 >= 3 }
            #expect(try await Self.ledgerState(harness) == "queued", "a fresh action keeps retrying: the operator fixes the key")

            try await Self.age(harness)
            try await harness.settle([worker], timeout: .seconds(20))
            #expect(harness.sandbox.notifications(appID: harness.appID).isEmpty)
            try await Self.expectDeadLetter(harness, event: "hubsignal.onesignal.notification_failed", reason: "not sent")
        }
    }

    @Test("a sent notification whose completion HubSpot refuses with 401 is a dead letter once the action is a day old")
    func unauthorizedCompletionsEndOnceTheActionIsADayOld() async throws {
        try await OneSignalHarness.run { harness in
            try Self.seedUser(harness)
            try await harness.workflowAction(
                "send_notification", callbackID: "ap-old-3", objectID: "603", inputs: #"{"external_id":"u1","content":"Hi"}"#)
            harness.hubSpot.faults.inject(.status(401), times: 1_000, pathPrefix: "/automation/v4/actions/callbacks")
            let worker = harness.worker()
            try await Self.retryUntil(harness, worker, "the completion was refused three times") { $0 >= 3 }
            #expect(harness.sandbox.notifications(appID: harness.appID).count == 1)
            #expect(try await Self.ledgerState(harness) == "queued")

            try await Self.age(harness)
            try await harness.settle([worker], timeout: .seconds(20))
            #expect(harness.sandbox.notifications(appID: harness.appID).count == 1, "sent once, never again")
            try await Self.expectDeadLetter(harness, event: "hubsignal.hubspot.action_completion_failed", reason: "completing the HubSpot action")
        }
    }

    // MARK: - Support

    static func seedUser(_ harness: OneSignalHarness) throws {
        try harness.sandbox.seedUser(
            appID: harness.appID, externalID: "u1", subscriptions: [.init(type: "iOSPush", token: String(repeating: "b", count: 64))])
    }

    /// Queues the workflow action in the log into `onesignal_outbox`, without sending it.
    static func queue(_ harness: OneSignalHarness) async throws {
        let outbox = OneSignalOutbox(defaultApp: "default").makeSubscription(
            store: harness.projection.store, watcher: LogWatcher(), logger: TestPostgres.logger)
        // (A transaction open elsewhere on the server can hold the reader back for a moment.)
        try await waitUntil("the action is queued", timeout: .seconds(20)) {
            _ = try await outbox.processNextBatch()
            return try await harness.projection.count("SELECT count(*) FROM onesignal_outbox") == 1
        }
    }

    /// Moves the queued actions' HubSpot call a day back, and makes their retries due.
    static func age(_ harness: OneSignalHarness) async throws {
        try await harness.client.execute("UPDATE onesignal_outbox SET received_at = received_at - interval '1 day 1 minute'")
        try await harness.client.execute("UPDATE deliveries SET next_attempt_at = now() WHERE object_kind = 'notification'")
    }

    /// Runs rounds until the notification's attempts satisfy `condition`.
    static func retryUntil(
        _ harness: OneSignalHarness, _ worker: OneSignalSync, _ what: String, _ condition: @escaping (Int) -> Bool
    ) async throws {
        try await waitUntil(what, timeout: .seconds(20)) {
            try await harness.projection.project()
            _ = try await worker.runOnce()
            let attempts = try await harness.projection.count(
                "SELECT COALESCE(max(attempts), 0)::bigint FROM deliveries WHERE object_kind = 'notification'")
            return condition(attempts)
        }
    }

    static func ledgerState(_ harness: OneSignalHarness) async throws -> String? {
        try await harness.client.query("SELECT state FROM deliveries WHERE object_kind = 'notification'").first?.decode(String.self, at: 0)
    }

    /// The notification is a dead letter whose reason names the age limit: in the ledger, in `event` in the log, and in
    /// `hubsignal status`.
    static func expectDeadLetter(
        _ harness: OneSignalHarness, event: String, reason: String, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let row = try #require(
            try await harness.client.query("SELECT state, last_error FROM deliveries WHERE object_kind = 'notification'").first,
            sourceLocation: sourceLocation)
        let (state, error) = try row.decode((String, String?).self)
        #expect(state == "dead", sourceLocation: sourceLocation)
        #expect(error?.contains(reason) == true && error?.contains("older than a day") == true, "\(error ?? "-")", sourceLocation: sourceLocation)
        let recorded = try await harness.client.query("SELECT payload->>'reason' FROM events WHERE type = \(event)")
            .map { try $0.decode(String?.self, at: 0) }
        #expect(recorded.count == 1, sourceLocation: sourceLocation)
        #expect(recorded.first??.contains("older than a day") == true, sourceLocation: sourceLocation)
        let status = try await DeliveryStatus.read(client: harness.client).destinations.first { $0.name == "onesignal" }
        #expect(status?.dead == 1, sourceLocation: sourceLocation)
        #expect(status?.lastError?.contains("older than a day") == true, sourceLocation: sourceLocation)
    }
}
