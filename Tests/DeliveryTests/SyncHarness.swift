import Delivery
import Domain
import EventStore
import Foundation
import HubSpot
import HubSpotSandbox
import Logging
import Mapping
import PQ
import TestSupport

/// A test database with the people projection, a HubSpot sandbox, and HubSpot sync workers pointed at it.
struct SyncHarness {
    var projection: ProjectionHarness
    let sandbox: HubSpotSandbox
    let token = "pat-na1-test-token"

    init(_ database: TestDatabase, rateLimit: Int = 1_000, searchIndexingDelay: Duration = .zero) async throws {
        projection = ProjectionHarness(database)
        sandbox = HubSpotSandbox(
            configuration: .init(accessToken: token, rateLimit: rateLimit, searchIndexingDelay: searchIndexingDelay))
        try await sandbox.start()
    }

    /// Runs `body` with a fresh database and a started sandbox (whose search shows writes after `searchIndexingDelay`),
    /// and stops the sandbox afterwards.
    static func run(searchIndexingDelay: Duration = .zero, _ body: (inout SyncHarness) async throws -> Void) async throws {
        try await TestPostgres.withDatabase { database in
            var sync = try await SyncHarness(database, searchIndexingDelay: searchIndexingDelay)
            do {
                try await body(&sync)
            } catch {
                await sync.sandbox.stop()
                throw error
            }
            await sync.sandbox.stop()
        }
    }

    var client: PQClient { projection.client }

    /// A HubSpot client for the sandbox, with its own rate limiter (one per process, as in `serve`).
    func hubSpotClient(limit: Int = 1_000, timeout: Duration = .seconds(10)) -> HubSpotClient {
        HubSpotClient(
            configuration: .init(baseURL: sandbox.baseURL, accessToken: token, timeout: timeout),
            rateLimiter: HubSpotRateLimiter(limit: limit), logger: TestPostgres.logger)
    }

    /// A worker with no coalescing delay and fast retries.
    func worker(
        _ owner: String = "test-worker", mapping: Mapping = .defaults, client: HubSpotClient? = nil,
        lease: Duration = .seconds(60), maximumAttempts: Int = 20, portalID: String? = "12345678",
        retryDelay: Duration = .milliseconds(20), holder: ClaimHolder? = nil
    ) -> HubSpotSync {
        var configuration = HubSpotSync.Configuration(owner: owner)
        configuration.holder = holder
        configuration.portalID = portalID
        configuration.linger = .zero
        configuration.lease = lease
        configuration.pollInterval = .milliseconds(20)
        configuration.retry = RetryPolicy(
            initialDelay: retryDelay, maximumDelay: max(retryDelay, .milliseconds(100)), maximumAttempts: maximumAttempts)
        return HubSpotSync(
            configuration: configuration, client: client ?? hubSpotClient(), database: self.client, store: projection.store,
            mapping: mapping, logger: TestPostgres.logger)
    }

    /// Appends a Segment identify.
    @discardableResult
    mutating func identify(_ userID: String, _ traits: String) async throws -> Int64 {
        try await projection.append(
            .identify, #"{"type":"identify","userId":"\#(userID)","traits":\#(traits),"messageId":"\#(UUID())"}"#)
    }

    /// Appends a Segment group call.
    @discardableResult
    mutating func group(_ userID: String, groupID: String, _ traits: String) async throws -> Int64 {
        try await projection.append(
            .group,
            #"{"type":"group","userId":"\#(userID)","groupId":"\#(groupID)","traits":\#(traits),"messageId":"\#(UUID())"}"#)
    }

    /// Appends a Segment track call.
    @discardableResult
    mutating func track(_ userID: String, _ event: String, _ properties: String, messageID: String = UUID().uuidString) async throws -> Int64 {
        try await projection.append(
            .track,
            #"{"type":"track","userId":"\#(userID)","event":"\#(event)","properties":\#(properties),"messageId":"\#(messageID)"}"#)
    }

    /// Appends a Segment page call.
    @discardableResult
    mutating func page(_ userID: String, _ name: String, _ properties: String) async throws -> Int64 {
        try await projection.append(
            .page,
            #"{"type":"page","userId":"\#(userID)","name":"\#(name)","properties":\#(properties),"messageId":"\#(UUID())"}"#)
    }

    /// Appends a OneSignal message event as `/webhooks/onesignal` stores it (the flat template).
    @discardableResult
    mutating func oneSignalEvent(_ kind: String, externalID: String, title: String = "Sale ends tonight") async throws -> Int64 {
        try await projection.append(
            .oneSignal(kind),
            #"{"event_id":"\#(UUID())","kind":"\#(kind)","external_id":"\#(externalID)","message_id":"n-42","title":"\#(title)","url":"https://example.com/sale","app_id":"app-1","timestamp":1790000000}"#,
            source: .onesignal)
    }

    /// Projects and pushes until nothing is left to push (results projected too), or fails after `timeout`.
    func settle(_ workers: [HubSpotSync], mapping: Mapping = .defaults, timeout: Duration = .seconds(60)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            try await projection.project(mapping)
            var claimed = 0
            for worker in workers { claimed += try await worker.runOnce() }
            try await projection.project(mapping)
            if claimed == 0 {
                let left = try await outstanding()
                if left == 0 { return }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        // The last round may have finished the work just as the deadline passed.
        let left = try await outstanding()
        if left == 0 { return }
        throw TestPostgresError("the HubSpot sync did not settle within \(timeout): \(left) objects outstanding")
    }

    /// Objects HubSpot should hold but does not yet, excluding dead letters.
    func outstanding() async throws -> Int {
        try await projection.count(
            """
            SELECT (SELECT count(*) FROM sync_status s WHERE s.destination = 'hubspot' AND s.state = 'pending'
                      AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.destination = 'hubspot' AND d.object_kind = 'contact'
                                      AND d.object_key = s.contact_id AND d.state = 'dead'))
                 + (SELECT count(*) FROM companies co WHERE co.hubspot_pending
                      AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.destination = 'hubspot' AND d.object_kind = 'company'
                                      AND d.object_key = co.company_id AND d.state = 'dead'))
                 + (SELECT count(*) FROM hubspot_event_outbox o WHERE NOT EXISTS (SELECT 1 FROM deliveries d
                      WHERE d.destination = 'hubspot' AND d.object_kind = 'event' AND d.object_key = o.delivery_key
                        AND (d.state = 'dead' OR d.attempts > 0)))
                 + (SELECT count(*) FROM contact_companies cc JOIN contacts c USING (contact_id)
                      JOIN companies co ON co.company_id = cc.company_id
                      WHERE NOT cc.hubspot_associated AND c.hubspot_contact_id IS NOT NULL AND co.hubspot_company_id IS NOT NULL)
            """)
    }

    /// The inputs of every batch upsert the sandbox received for an object type, in order.
    func upsertInputs(_ objectType: String = "contacts") throws -> [[String: Any]] {
        try sandbox.requests.matching(method: "POST", path: "/crm/v3/objects/\(objectType)/batch/upsert").flatMap { request in
            let body = try JSONSerialization.jsonObject(with: request.body) as? [String: Any]
            return body?["inputs"] as? [[String: Any]] ?? []
        }
    }

    /// The number of batch upsert calls for an object type.
    func upsertCalls(_ objectType: String = "contacts") -> Int {
        sandbox.requests.matching(method: "POST", path: "/crm/v3/objects/\(objectType)/batch/upsert").count
    }
}
