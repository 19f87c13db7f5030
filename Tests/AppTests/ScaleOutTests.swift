import EmbeddedPostgres
import Foundation
import HubSpotSandbox
import Ingestion
import OneSignalSandbox
import PQ
import Testing
import TestSupport

/// Several `serve` processes against one database, one of them killed: the work is shared, nothing is lost, nothing is
/// sent twice.
@Suite struct ScaleOutTests {
    static let appID = "8250eaf6-1a58-489e-b136-7c74a864b434"

    /// A workflow action signed as HubSpot signs it (v3).
    static func signedAction(port: Int, body: String, secret: String, publicURL: String) throws -> Int {
        let path = "/hubspot/actions/send-notification"
        let timestamp = String(Int64(Date().timeIntervalSince1970 * 1000))
        let signature = HubSpotSignature.v3(secret: secret, method: "POST", uri: publicURL + path, body: Array(body.utf8), timestamp: timestamp)
        let request =
            "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nX-HubSpot-Signature-v3: \(signature)\r\n"
            + "X-HubSpot-Request-Timestamp: \(timestamp)\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n"
            + "Connection: close\r\n\r\n\(body)"
        let response = try ServeProcessTests.rawHTTP(port: port, request: request)
        return Int(response.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    @Test("three serve processes share ingestion, projection and both syncs; one killed with SIGKILL loses and duplicates nothing")
    func threeProcessesOneKilled() async throws {
        try await TestPostgres.withDatabase { database in
            let hubSpot = HubSpotSandbox(configuration: .init(accessToken: "pat-scale", rateLimit: 1_000))
            try await hubSpot.start()
            let oneSignal = OneSignalSandbox(configuration: .init(appID: Self.appID, apiKey: "os_v2_app_scale"))
            _ = try await oneSignal.start()
            let users = (0..<40).map { "user-\($0)" }
            for user in users.prefix(10) {
                try oneSignal.seedUser(appID: Self.appID, externalID: user, subscriptions: [.init(type: "AndroidPush", token: "t-\(user)")])
            }
            let publicURL = "https://hubsignal.example.com"
            let environment = [
                "HUBSPOT_ACCESS_TOKEN": "pat-scale", "HUBSPOT_BASE_URL": hubSpot.baseURL, "HUBSPOT_CLIENT_SECRET": "scale-secret",
                "HUBSIGNAL_PUBLIC_URL": publicURL, "ONESIGNAL_APP_ID": Self.appID, "ONESIGNAL_API_KEY": "os_v2_app_scale",
                "ONESIGNAL_BASE_URL": oneSignal.baseURL!.absoluteString, "HUBSIGNAL_SYNC_LINGER_MS": "200",
                "HUBSIGNAL_SYNC_LEASE_SECONDS": "5",
            ]
            var ports: [Int] = []
            var processes: [Process] = []
            for index in 0..<3 {
                let port = try EmbeddedPostgres.findFreePort()
                ports.append(port)
                processes.append(
                    try ServeProcessTests.startServe(
                        database, port: port, environment: environment.merging(["HUBSIGNAL_WORKER_ID": "p\(index)"]) { $1 }))
            }
            defer {
                for process in processes where process.isRunning { process.terminate() }
                Task {
                    await hubSpot.stop()
                    await oneSignal.stop()
                }
            }
            let deadline = ContinuousClock.now + .seconds(30)
            for port in ports {
                while (try? ServeProcessTests.rawHTTP(port: port, request: "GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))?.contains("200") != true {
                    try #require(ContinuousClock.now < deadline, "a serve process did not become ready")
                    try await Task.sleep(for: .milliseconds(100))
                }
            }

            // Identify calls spread over the three processes, each sent twice (a client retrying after a lost answer).
            func identify(_ index: Int, _ user: String, round: Int, alive: [Int]) throws {
                let body = #"{"userId":"\#(user)","messageId":"m-\#(user)-\#(round)","traits":{"email":"\#(user)@example.com","firstName":"p\#(round)"}}"#
                for attempt in 0..<2 {
                    let port = ports[alive[(index + attempt) % alive.count]]
                    #expect(try ServeProcessTests.post(port: port, path: "/v1/identify", body: body, writeKey: "process-key") == 200)
                }
            }
            for (index, user) in users.enumerated() { try identify(index, user, round: 1, alive: [0, 1, 2]) }
            // Workflow notifications, each delivered twice by HubSpot (a retry), to different processes.
            for (index, user) in users.prefix(10).enumerated() {
                let body = #"{"callbackId":"ap-scale-\#(index)","object":{"objectId":\#(9000 + index),"objectType":"CONTACT"},"inputFields":{"content":"hello \#(user)","external_id":"\#(user)"}}"#
                for attempt in 0..<2 {
                    #expect(try Self.signedAction(port: ports[(index + attempt) % 3], body: body, secret: "scale-secret", publicURL: publicURL) == 200)
                }
            }
            // Kill one process in the middle of the work.
            try await Task.sleep(for: .milliseconds(300))
            kill(processes[0].processIdentifier, SIGKILL)
            processes[0].waitUntilExit()
            for (index, user) in users.enumerated() { try identify(index, user, round: 2, alive: [1, 2]) }

            // Everything arrives: every contact in sync at both destinations, every notification sent.
            let settled = ContinuousClock.now + .seconds(90)
            var left = -1
            while ContinuousClock.now < settled {
                left = Int(
                    try await database.client.query(
                        """
                        -- (the workflows' contacts, known by HubSpot id only, wait: they have no email or userId)
                        SELECT (SELECT count(*) FROM sync_status WHERE state NOT IN ('in_sync', 'waiting'))
                             + (SELECT count(*) FROM onesignal_outbox)
                             + (SELECT 80 - count(*) FROM sync_status WHERE state = 'in_sync')
                        """)[0].decode(Int64.self, at: 0))
                if left == 0 { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            let states = try await database.client.query(
                "SELECT destination || ' ' || state || ' ' || COALESCE(reason, '') || ' ' || count(*) FROM sync_status GROUP BY destination, state, reason")
                .map { try $0.decode(String.self, at: 0) }
            #expect(left == 0, "work left after 90 s: \(left): \(states)")
            // The log holds every accepted call once.
            #expect(try await database.client.query("SELECT count(*) FROM events WHERE type = 'segment.identify'")[0].decode(Int64.self, at: 0) == 80)
            #expect(try await database.client.query("SELECT count(*) FROM events WHERE type = 'hubspot.action.send_notification'")[0].decode(Int64.self, at: 0) == 10)
            // The destinations hold the final state; notifications went out exactly once each.
            for user in users {
                #expect(hubSpot.contact(email: "\(user)@example.com")?["firstname"] == "p2", "HubSpot: \(user)")
                #expect(oneSignal.user(appID: Self.appID, externalID: user)?.tags["first_name"] == "p2", "OneSignal: \(user)")
            }
            let notifications = oneSignal.notifications(appID: Self.appID)
            #expect(notifications.count == 10)
            #expect(Set(notifications.flatMap(\.recipientExternalIDs)) == Set(users.prefix(10)))
            // The surviving processes did the work after the kill.
            let workers = try await database.client.query("SELECT DISTINCT worker FROM delivery_workers WHERE destination = 'hubspot'")
                .map { try $0.decode(String.self, at: 0) }
            #expect(!Set(workers).isDisjoint(with: ["p1", "p2"]), "workers: \(workers)")
            for process in processes.dropFirst() {
                kill(process.processIdentifier, SIGTERM)
                process.waitUntilExit()
                #expect(process.terminationStatus == 0)
            }
        }
    }
}
