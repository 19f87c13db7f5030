import Delivery
import Domain
import EventStore
import Foundation
import HubSpot
import HubSpotSandbox
import Logging
import Mapping
import OneSignal
import OneSignalSandbox
import PQ
import SandboxKit
import TestSupport

/// A test database with the people projection, a OneSignal sandbox (one app), a HubSpot sandbox (for workflow action
/// completions), and OneSignal sync workers pointed at them.
struct OneSignalHarness {
    var projection: ProjectionHarness
    let sandbox: OneSignalSandbox
    let hubSpot: HubSpotSandbox
    let appID = "8250eaf6-1a58-489e-b136-7c74a864b434"
    let apiKey = "os_v2_app_test_key"
    /// The second app of `run(twoApps: true)` (key `os_v2_app_beta_key`).
    static let betaAppID = "3c1f9d2e-7a4b-4e8f-9b6a-2d5c8e1f0a7b"
    let hubSpotToken = "pat-na1-test-token"

    static func run(
        tagLimit: Int = 10, rateLimits: OneSignalSandbox.RateLimits = .oneSignal, twoApps: Bool = false,
        _ body: (inout OneSignalHarness) async throws -> Void
    ) async throws {
        try await TestPostgres.withDatabase { database in
            var apps = [OneSignalSandbox.Configuration.App(id: "8250eaf6-1a58-489e-b136-7c74a864b434", apiKey: "os_v2_app_test_key", tagLimit: tagLimit)]
            if twoApps { apps.append(.init(id: betaAppID, apiKey: "os_v2_app_beta_key", tagLimit: 2, name: "Beta")) }
            let sandbox = OneSignalSandbox(configuration: .init(apps: apps, rateLimits: rateLimits))
            _ = try await sandbox.start()
            let hubSpot = HubSpotSandbox(configuration: .init(accessToken: "pat-na1-test-token"))
            try await hubSpot.start()
            var harness = OneSignalHarness(projection: ProjectionHarness(database), sandbox: sandbox, hubSpot: hubSpot)
            do {
                try await body(&harness)
            } catch {
                await sandbox.stop()
                await hubSpot.stop()
                throw error
            }
            await sandbox.stop()
            await hubSpot.stop()
        }
    }

    var client: PQClient { projection.client }

    func oneSignalClient(timeout: Duration = .seconds(10), beta: Bool = false) -> OneSignalClient {
        OneSignalClient(
            configuration: .init(
                baseURL: sandbox.baseURL!.absoluteString, appID: beta ? Self.betaAppID : appID,
                apiKey: beta ? "os_v2_app_beta_key" : apiKey, timeout: timeout),
            logger: TestPostgres.logger)
    }

    var hubSpotClient: HubSpotClient {
        HubSpotClient(
            configuration: .init(baseURL: hubSpot.baseURL, accessToken: hubSpotToken), rateLimiter: HubSpotRateLimiter(limit: 1000),
            logger: TestPostgres.logger)
    }

    /// A worker with no coalescing delay, OneSignal's one-second spacing, and fast retries.
    func worker(
        _ owner: String = "test-worker", mapping: Mapping = .defaults, client: OneSignalClient? = nil,
        maximumAttempts: Int = 20, spacing: Duration = .seconds(1), completes: Bool = true, app: String? = nil,
        holder: ClaimHolder? = nil
    ) -> OneSignalSync {
        var configuration = OneSignalSync.Configuration(owner: owner, app: app ?? mapping.oneSignalApps[0].name)
        configuration.holder = holder
        configuration.runsOutbox = app == nil || app == mapping.oneSignalApps[0].name
        configuration.linger = .zero
        configuration.spacing = spacing
        configuration.pollInterval = .milliseconds(20)
        configuration.retry = RetryPolicy(initialDelay: .milliseconds(20), maximumDelay: .milliseconds(100), maximumAttempts: maximumAttempts)
        let hubSpotClient = self.hubSpotClient
        let completer = WorkflowActionCompleter { callbackID, fields in
            try await hubSpotClient.completeWorkflowAction(callbackID: callbackID, outputFields: fields)
        }
        return OneSignalSync(
            configuration: configuration, client: client ?? oneSignalClient(beta: app == "beta"), database: self.client, store: projection.store,
            mapping: mapping, completer: completes ? completer : nil, logger: TestPostgres.logger)
    }

    @discardableResult
    mutating func identify(_ userID: String?, _ traits: String, anonymousID: String? = nil) async throws -> Int64 {
        let user = userID.map { #""userId":"\#($0)","# } ?? ""
        let anonymous = anonymousID.map { #""anonymousId":"\#($0)","# } ?? ""
        return try await projection.append(
            .identify, #"{"type":"identify",\#(user)\#(anonymous)"traits":\#(traits),"messageId":"\#(UUID())"}"#)
    }

    /// Appends a HubSpot workflow action as `/hubspot/actions/…` stores it.
    @discardableResult
    func workflowAction(_ action: String, callbackID: String, objectID: String, inputs: String) async throws -> Int64 {
        // Received now: the outbox skips actions older than a day (the harness's clock is in the past).
        try await projection.store.append([
            NewEvent(
                stream: "hubspot-contact:\(objectID)", type: .hubSpotAction(action), source: .hubspot, idempotencyKey: callbackID,
                occurredAt: Date(),
                payload: PQJSONB(#"{"callbackId":"\#(callbackID)","object":{"objectId":\#(objectID),"objectType":"CONTACT"},"inputFields":\#(inputs)}"#),
                metadata: PQJSONB("{}"))
        ])[0].position
    }

    /// Projects and pushes until nothing is left (results projected too), or fails after `timeout`.
    func settle(_ workers: [OneSignalSync], mapping: Mapping = .defaults, timeout: Duration = .seconds(60)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            try await projection.project(mapping)
            var claimed = 0
            for worker in workers { claimed += try await worker.runOnce() }
            try await projection.project(mapping)
            if claimed == 0 {
                if try await outstanding() == 0 { return }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        // The last round may have finished the work just as the deadline passed.
        let left = try await outstanding()
        if left == 0 { return }
        throw TestPostgresError("the OneSignal sync did not settle within \(timeout): \(left) outstanding")
    }

    /// Users and notifications OneSignal should have but does not yet, excluding dead letters.
    func outstanding() async throws -> Int {
        try await projection.count(
            """
            SELECT (SELECT count(*) FROM sync_status s WHERE s.destination = 'onesignal' AND s.state = 'pending'
                      AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.destination = 'onesignal' AND d.object_kind = 'user:' || s.app
                                      AND d.object_key = s.contact_id AND d.state = 'dead'))
                 + (SELECT count(*) FROM onesignal_outbox o WHERE NOT EXISTS (SELECT 1 FROM deliveries d
                      WHERE d.destination = 'onesignal' AND d.object_kind = 'notification' AND d.object_key = o.callback_id
                        AND d.state = 'dead'))
            """)
    }

    /// The user-write requests (PATCH and POST on users) the sandbox received.
    func userWrites() -> [RecordedRequest] {
        sandbox.requests.all.filter { $0.path.contains("/users") && ($0.method == "PATCH" || $0.method == "POST") }
    }

    /// The tags of a user in the sandbox.
    func tags(_ externalID: String) -> [String: String]? {
        sandbox.user(appID: appID, externalID: externalID)?.tags
    }
}
