import FaultHarness
import Foundation
import PQ
import SandboxKit
import Synchronization
import Testing
import TestSupport

/// The fault suite: every test drives real `hubsignal serve` processes, a real PostgreSQL and both sandboxes, sends a
/// known set of calls (retried requests included), injects one fault, lets the system recover, and checks that the
/// three ledgers agree. One test at a time: the faults are timed, and two cores are shared with the other suites.
@Suite(.serialized) enum FaultSuite {}

extension FaultSuite {
    /// `kill -9` at the worst moments, then a restart.
    @Suite struct ProcessKills {
        @Test("kill -9 of serve during ingestion: every acknowledged call is in the log once, and reaches both APIs")
        func killDuringIngestion() async throws {
            try await TestPostgres.withDatabase { database in
                try await FaultCluster.run(database: database) { cluster in
                    let serve = cluster.processes[0]
                    let sending = Task { await cluster.send(FaultCluster.identifyBatches(users: 0..<300, round: 1, perBatch: 5), clients: 6) }
                    try await FaultCluster.waitUntil("some calls acknowledged") { cluster.load.ledger.acknowledged.count >= 40 }
                    await serve.kill()
                    let acknowledgedAtKill = cluster.load.ledger.acknowledged.count
                    try await Task.sleep(for: .milliseconds(500))
                    try serve.restart()
                    #expect(await sending.value == 0, "every batch is acknowledged in the end")
                    #expect(acknowledgedAtKill < 300, "the kill landed during ingestion")
                    #expect(cluster.load.ledger.failures > 0, "some requests failed with the process and were retried")
                    let report = try await cluster.settleAndCheck()
                    #expect(report.acknowledgedInLog == 300)
                    #expect(report.hubSpotCompared == 300 && report.oneSignalCompared == 300)
                }
            }
        }

        @Test("kill -9 of serve while a HubSpot batch push is in flight: the push is redone, harmlessly")
        func killDuringHubSpotPush() async throws {
            try await TestPostgres.withDatabase { database in
                try await FaultCluster.run(database: database) { cluster in
                    let serve = cluster.processes[0]
                    // The first upsert is held for a second by HubSpot (it arrives, and is applied after the delay).
                    cluster.hubSpot.faults.inject(.latency(.seconds(1)), pathPrefix: "/crm/v3/objects/contacts/batch/upsert")
                    #expect(await cluster.send(FaultCluster.identifyBatches(users: 0..<30, round: 1)) == 0)
                    try await FaultCluster.waitUntil("the upsert reached HubSpot") { cluster.hubSpot.faults.pendingCount == 0 }
                    await serve.kill()
                    // (Under load the contacts can go out in more than one batch: only the delayed one is unrecorded.)
                    #expect(try await cluster.count("SELECT count(*) FROM events WHERE type = 'hubsignal.hubspot.contact_synced'") < 30,
                        "killed before the result of the delayed push was recorded")
                    try serve.restart()
                    try await serve.waitUntilReady()
                    try await cluster.settleAndCheck()
                    let upserts = cluster.hubSpot.requests.all.filter { $0.path.hasPrefix("/crm/v3/objects/contacts/batch/upsert") }
                    #expect(upserts.count >= 2, "the push was sent again after the restart")
                    #expect(cluster.hubSpot.contacts().count == 30, "an upsert sent twice creates no second contact")
                }
            }
        }

        @Test("kill -9 of serve while a OneSignal notification is being sent: it reaches its users exactly once")
        func killDuringNotificationSend() async throws {
            try await TestPostgres.withDatabase { database in
                try await FaultCluster.run(database: database) { cluster in
                    let serve = cluster.processes[0]
                    try cluster.seedOneSignalUsers(0..<3)
                    cluster.oneSignal.faults.inject(.latency(.seconds(1)), pathPrefix: "/notifications")
                    #expect(try cluster.sendNotificationAction(callbackID: "cb-kill-1", objectID: 501, externalID: "user-0", port: serve.port) == 200)
                    try await FaultCluster.waitUntil("the notification reached OneSignal") { cluster.oneSignal.faults.pendingCount == 0 }
                    await serve.kill()
                    try await Task.sleep(for: .seconds(1.5))
                    #expect(cluster.oneSignal.notifications(appID: FaultCluster.appID).count == 1, "OneSignal applied the request")
                    #expect(try await cluster.count("SELECT count(*) FROM events WHERE type = 'hubsignal.onesignal.notification_sent'") == 0,
                        "killed before the answer was recorded")
                    try serve.restart()
                    try await cluster.settleAndCheck()
                    let notifications = cluster.oneSignal.notifications(appID: FaultCluster.appID)
                    #expect(notifications.count == 1)
                    #expect(notifications.first?.recipients.map(\.externalID) == ["user-0"])
                    let sends = cluster.oneSignal.requests.all.filter { $0.path.hasPrefix("/notifications") }
                    #expect(sends.count >= 2, "the send was retried after the restart, with the same idempotency key")
                    #expect(try await cluster.count("SELECT count(*) FROM events WHERE type = 'hubsignal.onesignal.notification_sent'") == 1)
                }
            }
        }

        @Test("kill -9 of serve holding a claimed notification, restart at once: sent within seconds (not after the lease), once")
        func killWithANotificationClaimed() async throws {
            try await TestPostgres.withDatabase { database in
                // The default lease of two minutes: only the end of the killed process's database session frees its claim in time.
                try await FaultCluster.run(database: database, environment: ["HUBSIGNAL_SYNC_LEASE_SECONDS": "120"]) { cluster in
                    let serve = cluster.processes[0]
                    try cluster.seedOneSignalUsers(0..<1)
                    // OneSignal holds the first send: the process dies with the notification claimed and unanswered.
                    cluster.oneSignal.faults.inject(.latency(.seconds(60)), pathPrefix: "/notifications")
                    #expect(
                        try cluster.sendNotificationAction(callbackID: "cb-claimed-1", objectID: 502, externalID: "user-0", port: serve.port) == 200)
                    try await FaultCluster.waitUntil("the claimed notification's send reached OneSignal") {
                        cluster.oneSignal.faults.pendingCount == 0
                    }
                    #expect(try await cluster.count(
                        "SELECT count(*) FROM deliveries WHERE object_kind = 'notification' AND leased_until > now() + interval '1 minute'") == 1,
                        "claimed, with a lease far longer than the test waits")
                    await serve.kill()
                    try serve.restart()
                    let restartedAt = ContinuousClock.now
                    try await FaultCluster.waitUntil("the restarted process sent the notification", timeout: .seconds(20)) {
                        try await cluster.count("SELECT count(*) FROM events WHERE type = 'hubsignal.onesignal.notification_sent'") == 1
                    }
                    #expect(ContinuousClock.now - restartedAt < .seconds(20))
                    // The killed process's held send lands now: OneSignal sends its idempotency key once.
                    cluster.oneSignal.faults.releaseHeldRequests()
                    try await cluster.settleAndCheck()
                    let notifications = cluster.oneSignal.notifications(appID: FaultCluster.appID)
                    #expect(notifications.count == 1)
                    #expect(notifications.first?.recipients.map(\.externalID) == ["user-0"])
                    #expect(try await cluster.count("SELECT count(*) FROM events WHERE type = 'hubsignal.onesignal.notification_sent'") == 1)
                    #expect(try await cluster.count("SELECT count(*) FROM events WHERE type = 'hubsignal.hubspot.action_completed'") == 1)
                }
            }
        }

        @Test("kill -9 of serve during a projection rebuild after a mapping change: the rebuild starts over and only differences are pushed")
        func killDuringRebuild() async throws {
            try await TestPostgres.withDatabase { database in
                try await FaultCluster.run(database: database) { cluster in
                    let serve = cluster.processes[0]
                    try cluster.seedOneSignalUsers(0..<40)
                    #expect(await cluster.send(FaultCluster.identifyBatches(users: 0..<40, round: 1)) == 0)
                    // History to replay: 20,000 track calls of those users.
                    let tracks = (0..<20_000).map { SegmentCall.track(userID: "user-\($0 % 40)", event: "Viewed", messageID: "t-\($0)") }
                    let batches = stride(from: 0, to: tracks.count, by: 100).map { Array(tracks[$0..<$0 + 100]) }
                    #expect(await cluster.send(batches, clients: 4, duplicateEvery: 50) == 0)
                    try await cluster.settleAndCheck()
                    let oldVersion = try await database.client.query("SELECT version FROM projections WHERE name = 'people'")[0]
                        .decode(String.self, at: 0)
                    #expect(await serve.terminate() == 0)

                    // The mapping changes: firstName becomes the OneSignal tag given_name.
                    let mapping = FileManager.default.temporaryDirectory.appendingPathComponent("faults-mapping-\(UUID().uuidString).yaml")
                    try "version: 1\nonesignal:\n  renames:\n    firstName: given_name\n".write(to: mapping, atomically: true, encoding: .utf8)
                    defer { try? FileManager.default.removeItem(at: mapping) }
                    let changed = ["HUBSIGNAL_MAPPING": mapping.path]
                    let hubSpotWritesBefore = cluster.hubSpot.requests.all.filter { $0.method == "POST" }.count
                    try serve.restart(environment: changed)
                    try await FaultCluster.waitUntil("the rebuild is under way", timeout: .seconds(60)) {
                        try await cluster.count("SELECT count(*) FROM pg_tables WHERE schemaname = 'hubsignal_rebuild'") > 0
                    }
                    try await Task.sleep(for: .milliseconds(200))
                    await serve.kill()
                    let versionAtKill = try await database.client.query("SELECT version FROM projections WHERE name = 'people'")[0]
                        .decode(String.self, at: 0)
                    #expect(versionAtKill == oldVersion, "killed before the swap: the live tables kept the old mapping")

                    try serve.restart(environment: changed)
                    try await FaultCluster.waitUntil("the rebuild finished", timeout: .seconds(120)) {
                        try await database.client.query("SELECT version FROM projections WHERE name = 'people'")[0]
                            .decode(String.self, at: 0) != oldVersion
                    }
                    let report = try await cluster.settleAndCheck()
                    #expect(report.oneSignalCompared == 40)
                    for index in 0..<40 {
                        let tags = cluster.oneSignal.user(appID: FaultCluster.appID, externalID: "user-\(index)")?.tags ?? [:]
                        #expect(tags["given_name"] == "r1" && tags["first_name"] == nil, "user-\(index): \(tags)")
                    }
                    #expect(try await cluster.count("SELECT count(*) FROM pg_tables WHERE schemaname = 'hubsignal_rebuild'") == 0)
                    // HubSpot's values did not change with this mapping: nothing was pushed there again.
                    #expect(cluster.hubSpot.requests.all.filter { $0.method == "POST" }.count == hubSpotWritesBefore)
                }
            }
        }

        @Test("several serve processes, one killed with SIGKILL mid-work: nothing lost, nothing sent twice", arguments: [2, 3])
        func severalProcessesOneKilled(processes: Int) async throws {
            try await TestPostgres.withDatabase { database in
                try await FaultCluster.run(database: database, processes: processes) { cluster in
                    try cluster.seedOneSignalUsers(0..<10)
                    let sending = Task { await cluster.send(FaultCluster.identifyBatches(users: 0..<60, round: 1, perBatch: 3), clients: 4) }
                    for index in 0..<10 {
                        // HubSpot retries a workflow action it got no answer for: each reaches two processes.
                        for attempt in 0..<2 {
                            let port = cluster.processes[(index + attempt) % processes].port
                            #expect(try cluster.sendNotificationAction(callbackID: "cb-scale-\(index)", objectID: 9000 + index, externalID: "user-\(index)", port: port) == 200)
                        }
                    }
                    try await FaultCluster.waitUntil("work under way") { cluster.load.ledger.acknowledged.count >= 30 }
                    await cluster.processes[0].kill()
                    #expect(await sending.value == 0)
                    #expect(await cluster.send(FaultCluster.identifyBatches(users: 0..<60, round: 2, perBatch: 3), clients: 4) == 0)
                    let report = try await cluster.settleAndCheck()
                    #expect(report.notificationRequests == 10 && report.notificationsSent == 10)
                    #expect(cluster.hubSpot.contact(email: "user-59@example.com")?.properties["firstname"] == "r2")
                    let workers = try await database.client.query("SELECT DISTINCT worker FROM delivery_workers")
                        .map { try $0.decode(String.self, at: 0) }
                    #expect(workers.contains { $0 != "p0" }, "the surviving processes did work: \(workers)")
                }
            }
        }
    }
}
