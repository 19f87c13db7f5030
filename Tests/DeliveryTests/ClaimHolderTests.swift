@testable import Delivery
import Operations
import Domain
import Foundation
import OneSignalSandbox
import PQ
import SandboxKit
import Synchronization
import Testing
import TestSupport

/// Claims tied to the liveness of the process holding them (``ClaimHolder``): a worker whose database session ends —
/// its process was killed — loses its claims at once, and another worker takes them over without waiting out the lease.
@Suite("Claims tied to the holder's session", .serialized)
struct ClaimHolderTests {
    @Test("a workflow notification claimed by a worker whose session ended is taken over within seconds and sent once")
    func aDeadWorkersNotificationIsTakenOverAtOnce() async throws {
        try await OneSignalHarness.run { harness in
            try harness.sandbox.seedUser(
                appID: harness.appID, externalID: "u1", subscriptions: [.init(type: "iOSPush", token: String(repeating: "a", count: 64))])
            try await Self.withHolders(harness.projection.database, count: 2) { holders in
                // Leases of two minutes (the default): only the holder's session can free the claim in time.
                let first = harness.worker("first", holder: holders[0])
                let second = harness.worker("second", holder: holders[1])
                try await harness.workflowAction(
                    "send_notification", callbackID: "ap-kill-1", objectID: "501", inputs: #"{"external_id":"u1","content":"Hi"}"#)
                // OneSignal holds the first send for three seconds, then applies it.
                harness.sandbox.faults.inject(.latency(.seconds(3)), pathPrefix: "/notifications")
                let faults = harness.sandbox.faults
                let sending = try await Self.roundInFlight("the first worker's send reached OneSignal") {
                    try await first.runOnce()
                } until: { faults.pendingCount == 0 }
                let token = try #require(holders[0].token)
                #expect(try await Self.holder(of: "ap-kill-1", harness.client) == token)
                // While the first worker's session lives, its claim holds.
                #expect(try await second.runOnce() == 0)

                // The first worker's process dies: PostgreSQL ends its session.
                try await Self.terminateSession(holding: token, harness.client)
                let killedAt = ContinuousClock.now
                #expect(try await sending.value == 0, "the round under the lost token is cancelled")
                try await waitUntil("the second worker sent the notification", timeout: .seconds(15)) {
                    _ = try await second.runOnce()
                    return try await harness.projection.count(
                        "SELECT count(*) FROM events WHERE type = 'hubsignal.onesignal.notification_sent'") == 1
                }
                #expect(ContinuousClock.now - killedAt < .seconds(15), "taken over long before the two-minute lease")

                // The held first send lands too: OneSignal sends the idempotency key once.
                try await Task.sleep(for: .seconds(3))
                try await harness.settle([second])
                let notifications = harness.sandbox.notifications(appID: harness.appID)
                #expect(notifications.count == 1)
                #expect(notifications.first?.recipientExternalIDs == ["u1"])
                #expect(try await harness.projection.count(
                    "SELECT count(*) FROM events WHERE type = 'hubsignal.onesignal.notification_sent'") == 1)
                #expect(harness.hubSpot.callbackCompletions().map(\.callbackID) == ["ap-kill-1"])

                // The first worker's holder reconnected under a new token; its old claims are gone for good.
                try await waitUntil("the first holder holds a new token", timeout: .seconds(10)) {
                    holders[0].token.map { $0 != token } ?? false
                }
            }
        }
    }

    @Test("a note whose worker died while HubSpot was creating it is created once")
    func aNoteOfADeadWorkerIsCreatedOnce() async throws {
        try await SyncHarness.run { sync in
            try await Self.withHolders(sync.projection.database, count: 2) { holders in
                let first = sync.worker("first", client: sync.hubSpotClient(timeout: .seconds(2)), lease: .seconds(120), holder: holders[0])
                let second = sync.worker("second", client: sync.hubSpotClient(timeout: .seconds(2)), lease: .seconds(120), holder: holders[1])
                try await sync.settle([second])  // the outbox starts at the end of the log
                try await sync.identify("n1", #"{"email":"noted@example.com"}"#)
                try await sync.settle([second])
                let contact = try #require(sync.sandbox.contact(email: "noted@example.com"))

                // HubSpot holds the note's creation for a second and a half, then applies it; meanwhile the worker dies.
                sync.sandbox.faults.inject(.latency(.milliseconds(1500)), pathPrefix: "/crm/v3/objects/notes")
                try await sync.oneSignalEvent("message.push.clicked", externalID: "n1")
                try await sync.projection.project()
                let faults = sync.sandbox.faults
                let writing = try await Self.roundInFlight("the note's creation reached HubSpot") {
                    try await first.runOnce()
                } until: { faults.pendingCount == 0 }
                try await Self.terminateSession(holding: try #require(holders[0].token), sync.client)
                _ = try await writing.value

                // The survivor takes the note over (an attempt whose outcome is unknown), waits until the dead worker's
                // request has landed or never will, and finds the note before creating it.
                try await waitUntil("the note is written", timeout: .seconds(30)) {
                    _ = try await second.runOnce()
                    return try await sync.projection.count("SELECT count(*) FROM hubspot_event_outbox") == 0
                }
                #expect(sync.sandbox.notes(forContact: contact.id).count == 1)
                #expect(sync.sandbox.requests.matching(method: "POST", path: "/crm/v3/objects/notes/search").count == 1)
            }
        }
    }

    @Test("a claim lapses as soon as its holder's session ends; one made without a holder waits for its lease")
    func claimsLapseByLeaseOrSession() async throws {
        try await SyncHarness.run { sync in
            try await Self.withHolders(sync.projection.database, count: 1) { holders in
                for index in 1...2 {
                    try await sync.identify("l\(index)", #"{"email":"l\#(index)@example.com"}"#)
                }
                try await sync.projection.project()
                let ledger = DeliveryLedger(client: sync.client)
                let token = try #require(holders[0].token)
                let held = try await ledger.claimHubSpotContacts(limit: 1, linger: .zero, lease: .seconds(60), owner: "alive", holder: token)
                let leased = try await ledger.claimHubSpotContacts(limit: 1, linger: .zero, lease: .seconds(60), owner: "old")
                #expect(held.count == 1 && leased.count == 1)
                // Neither is free: a live session, and a lease without a token.
                #expect(try await sync.worker("other").runOnce() == 0)
                #expect(try await DeliveryStatus.read(client: sync.client).destinations.first { $0.name == "hubspot" }?.inFlight == 2)
                // The session ends: its claim is free at once, the other still waits for its lease.
                try await Self.terminateSession(holding: token, sync.client)
                try await waitUntil("the dead holder's claim is free", timeout: .seconds(10)) {
                    try await DeliveryStatus.read(client: sync.client).destinations.first { $0.name == "hubspot" }?.inFlight == 1
                }
                let taken = try await ledger.claimHubSpotContacts(limit: 10, linger: .zero, lease: .seconds(60), owner: "other")
                #expect(taken.map(\.contactID) == held.map(\.contactID))
                #expect(taken.first?.attempts == 1, "the dead worker's attempt counts: its outcome is unknown")
            }
        }
    }

    @Test("the lease stays the limit for a worker that is hung but still connected")
    func aLiveHoldersClaimLapsesWithItsLease() async throws {
        try await SyncHarness.run { sync in
            try await Self.withHolders(sync.projection.database, count: 1) { holders in
                try await sync.identify("h1", #"{"email":"h1@example.com"}"#)
                try await sync.projection.project()
                let ledger = DeliveryLedger(client: sync.client)
                let token = try #require(holders[0].token)
                let hung = try await ledger.claimHubSpotContacts(limit: 1, linger: .zero, lease: .seconds(2), owner: "hung", holder: token)
                #expect(hung.count == 1)
                #expect(try await ledger.claimHubSpotContacts(limit: 1, linger: .zero, lease: .seconds(60), owner: "other").isEmpty)
                try await Task.sleep(for: .milliseconds(2_100))
                #expect(holders[0].token == token, "the hung worker's session lives on")
                let taken = try await ledger.claimHubSpotContacts(limit: 1, linger: .zero, lease: .seconds(60), owner: "other")
                #expect(taken.map(\.contactID) == hung.map(\.contactID))
                #expect(taken.first?.attempts == 1)
            }
        }
    }

    // MARK: - Support

    /// Starts `round` in a task, again each time it ends, until `reached` holds, and returns the round then in flight.
    ///
    /// A first round may find nothing to claim: the log's readers see no event past the oldest open transaction on the
    /// whole server, and the tests running beside this one hold transactions open.
    static func roundInFlight(
        _ what: String, _ round: @escaping @Sendable () async throws -> Int, until reached: @escaping @Sendable () -> Bool
    ) async throws -> Task<Int, any Error> {
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            let ended = Flag()
            let task = Task {
                defer { ended.set() }
                return try await round()
            }
            while !ended.isSet {
                if reached() { return task }
                guard ContinuousClock.now < deadline else { throw PollingTimeout(what: what, timeout: .seconds(30)) }
                try await Task.sleep(for: .milliseconds(20))
            }
            if reached() { return task }
            _ = try await task.value
        }
    }

    /// A flag one task sets and another reads.
    final class Flag: Sendable {
        private let value = Mutex(false)
        func set() { value.withLock { $0 = true } }
        var isSet: Bool { value.withLock { $0 } }
    }

    /// Runs `body` with `count` started holders (each holding a token), and stops them afterwards.
    static func withHolders(_ database: TestDatabase, count: Int, _ body: ([ClaimHolder]) async throws -> Void) async throws {
        var configuration = ClaimHolder.Configuration()
        configuration.checkInterval = .milliseconds(100)
        configuration.reconnectDelay = .milliseconds(200)
        let holders = (0..<count).map { _ in
            ClaimHolder(connectionString: database.connectionString, configuration: configuration, logger: TestPostgres.logger)
        }
        let running = holders.map { holder in Task { await holder.hold() } }
        defer { for task in running { task.cancel() } }
        try await waitUntil("the holders hold their tokens", timeout: .seconds(10)) { holders.allSatisfy { $0.token != nil } }
        try await body(holders)
        for task in running {
            task.cancel()
            await task.value
        }
    }

    /// Ends the database session holding `token`'s lock, as the death of its process does.
    static func terminateSession(holding token: Int64, _ client: PQClient) async throws {
        let terminated = try await client.query(
            """
            SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_locks
            WHERE locktype = 'advisory' AND granted AND objsubid = 1
              AND classid::int8 = (\(token)::int8 >> 32) AND objid::int8 = (\(token)::int8 & 4294967295)
            """)
        #expect(try terminated[0].decode(Int64.self, at: 0) == 1)
    }

    /// The holder token on the ledger row of a notification.
    static func holder(of callbackID: String, _ client: PQClient) async throws -> Int64? {
        try await client.query(
            "SELECT holder FROM deliveries WHERE object_kind = 'notification' AND object_key = \(callbackID)"
        ).first?.decode(Int64?.self, at: 0)
    }
}
