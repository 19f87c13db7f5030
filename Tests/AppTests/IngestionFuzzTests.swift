import Domain
import Foundation
import HTTPTypes
import Ingestion
import PropertyBased
import Testing

/// Property tests of every inbound endpoint over real HTTP against the real application and a real PostgreSQL:
/// valid payloads mutated at random (fields dropped, renamed, retyped and duplicated, hostile strings and numbers, huge
/// strings, deep nesting, truncated and flipped bytes) and random JSON, always correctly authenticated so that the
/// parsers are reached.
///
/// For every request: the status is 200 or a 4xx (never a 5xx, never a refused authentication); a 4xx carries the
/// JSON error shape with a code and a message saying what is wrong, and stores nothing; a 200 stores exactly the
/// messages it did not reject, each once, and records the rejected ones. After each property the server still answers.
///
/// A failure prints the case and the `.fixedSeed(…)` that replays it.
@Suite(.shrinking(false)) struct IngestionFuzzTests {
    @Test func segmentSingleMessageEndpoints() async throws {
        try await IngestionTestServer.with { server in
            await propertyCheck(count: 600, input: FuzzCase.generator(IngestionEndpoint.segmentSingles)) { fuzzCase in
                try await Self.check(fuzzCase, on: server)
            }
            try await server.expectStillAnswering()
        }
    }

    @Test func segmentBatchEndpoints() async throws {
        try await IngestionTestServer.with { server in
            await propertyCheck(count: 500, input: FuzzCase.generator([.batch, .import])) { fuzzCase in
                try await Self.check(fuzzCase, on: server)
            }
            try await server.expectStillAnswering()
        }
    }

    @Test func hubSpotWebhookAndWorkflowActions() async throws {
        try await IngestionTestServer.with { server in
            await propertyCheck(count: 600, input: FuzzCase.generator(IngestionEndpoint.hubSpot)) { fuzzCase in
                try await Self.check(fuzzCase, on: server)
            }
            try await server.expectStillAnswering()
        }
    }

    @Test func oneSignalEventStream() async throws {
        try await IngestionTestServer.with { server in
            await propertyCheck(count: 400, input: FuzzCase.generator([.oneSignal])) { fuzzCase in
                try await Self.check(fuzzCase, on: server)
            }
            try await server.expectStillAnswering()
        }
    }

    /// The generators must reach the parsers' accepting paths as well as their refusals, or the properties about
    /// what a 200 stores would check nothing.
    @Test func theGeneratorsReachBothAcceptedAndRefusedOutcomes() async throws {
        try await IngestionTestServer.with { server in
            let outcomes = Outcomes()
            await propertyCheck(count: 120, input: FuzzCase.generator(IngestionEndpoint.allCases)) { fuzzCase in
                let answer = try await server.send(fuzzCase.endpoint, body: fuzzCase.body)
                outcomes.record(answer.status)
            }
            let seen = outcomes.statuses
            #expect(seen[.ok, default: 0] >= 20, "\(seen)")
            #expect(seen[.badRequest, default: 0] >= 20, "\(seen)")
        }
    }

    // MARK: - The properties

    /// Sends one case and checks every property of its answer and of what it stored.
    static func check(_ fuzzCase: FuzzCase, on server: IngestionTestServer) async throws {
        let expectation = try await Expectation(fuzzCase, server: server)
        let before = try await server.counts()
        let answer = try await server.send(fuzzCase.endpoint, body: fuzzCase.body)
        let after = try await server.counts()
        let delta = (events: after.events - before.events, rejections: after.rejections - before.rejections)

        #expect(answer.status.code < 500, "a 5xx for a client's payload: \(answer.status.code) \(answer.body)")
        #expect(answer.headers[.contentType] == "application/json", "\(answer.headers)")
        switch answer.status.code {
        case 200:
            try await expectAccounted(answer, delta: delta, expectation: expectation, server: server)
        case 400, 413, 415:
            guard let error = answer.error else {
                Issue.record("a \(answer.status.code) without the JSON error shape: \(answer.body)")
                return
            }
            #expect(!error.code.isEmpty && !error.message.isEmpty, "\(answer.body)")
            if error.code == "invalid_json" {
                #expect(error.message.contains("at byte"), "a JSON error should say where the JSON is wrong: \(error.message)")
            }
            #expect(delta.events == 0, "a refused request stored \(delta.events) event(s): \(answer.body)")
            #expect(delta.rejections == 0, "a refused request recorded \(delta.rejections) rejection(s): \(answer.body)")
        case 403:
            // A HubSpot request the fuzzer moved to another portal (its `portalId` or `origin.portalId` changed or gone):
            // nothing stored, each of its events recorded.
            #expect(expectation.source == "hubspot" && answer.error?.code == "foreign_portal", "\(answer.body)")
            #expect(delta.events == 0, "a refused request stored \(delta.events) event(s): \(answer.body)")
            #expect(delta.rejections == expectation.units?.count, "recorded \(delta.rejections) rejection(s): \(answer.body)")
        default:
            Issue.record("unexpected status for an authenticated request: \(answer.status.code) \(answer.body)")
        }
    }

    /// A 200: the messages not listed as rejected are stored, each exactly once; the rejected ones are recorded.
    static func expectAccounted(
        _ answer: IngestionTestServer.Answer, delta: (events: Int, rejections: Int), expectation: Expectation,
        server: IngestionTestServer
    ) async throws {
        guard let json = answer.json, let units = expectation.units else {
            Issue.record("a 200 for a body that is not valid JSON or without a JSON answer: \(answer.body)")
            return
        }
        var rejectedIndexes: Set<Int> = []
        if expectation.endpoint.isWorkflowAction {
            let state = (json["outputFields"] as? [String: String])?["hs_execution_state"]
            #expect(["SUCCESS", "BLOCK", "FAIL_CONTINUE"].contains(state), "\(answer.body)")
            if state == "FAIL_CONTINUE" {
                let message = (json["outputFields"] as? [String: String])?["error_message"] ?? ""
                #expect(!message.isEmpty, "FAIL_CONTINUE without an error_message: \(answer.body)")
                rejectedIndexes = [0]
            }
        } else {
            #expect(json["success"] as? Bool == true, "\(answer.body)")
            let rejected = json["rejected"] as? [[String: Any]] ?? []
            for entry in rejected {
                guard let index = entry["index"] as? Int, units.indices.contains(index), let reason = entry["reason"] as? String,
                    !reason.isEmpty
                else {
                    Issue.record("a rejection without an index in the request or a reason: \(entry)")
                    continue
                }
                #expect(rejectedIndexes.insert(index).inserted, "index \(index) rejected twice: \(answer.body)")
            }
            if !expectation.endpoint.isSegmentBatch && expectation.endpoint != .hubSpotWebhook {
                #expect(rejectedIndexes.isEmpty, "a single-event endpoint answered 200 with rejections: \(answer.body)")
            }
        }
        let accepted = units.indices.filter { !rejectedIndexes.contains($0) }
        let keys = accepted.compactMap { units[$0] }
        let assignedKeys = accepted.count - keys.count
        let newKeys = Set(keys).subtracting(expectation.preexistingKeys)
        #expect(
            delta.events == newKeys.count + assignedKeys,
            "stored \(delta.events) event(s) for \(accepted.count) accepted message(s) (\(newKeys.count) new keys, \(assignedKeys) assigned): \(answer.body)"
        )
        #expect(delta.rejections == rejectedIndexes.count, "recorded \(delta.rejections) rejection(s) for \(rejectedIndexes.count) rejected")
        let stored = try await server.storedCounts(source: expectation.source, keys: Array(Set(keys)))
        for key in Set(keys) {
            #expect(stored[key] == 1, "the accepted message \(key.prefix(80)) is stored \(stored[key] ?? 0) time(s)")
        }
    }

    /// What a request would store if it is accepted: one unit per message (its idempotency key, or `nil` when the
    /// server assigns one), and which of those keys were stored before.
    struct Expectation {
        var endpoint: IngestionEndpoint
        var source: String
        /// `nil` when the body is not JSON of the endpoint's top-level shape (then a 200 is wrong).
        var units: [String?]?
        var preexistingKeys: Set<String> = []

        init(_ fuzzCase: FuzzCase, server: IngestionTestServer) async throws {
            endpoint = fuzzCase.endpoint
            let parsed = try? JSONValue.parse(fuzzCase.body)
            switch fuzzCase.endpoint {
            case .identify, .track, .page, .screen, .group, .alias:
                source = "segment"
                units = parsed?.objectValue.map { [$0["messageId"]?.identifierValue] }
            case .batch, .import:
                source = "segment"
                units = parsed?["batch"]?.arrayValue?.map { $0.objectValue == nil ? nil : $0["messageId"]?.identifierValue }
            case .hubSpotWebhook:
                source = "hubspot"
                units = parsed?.arrayValue?.map(Self.hubSpotKey)
            case .sendNotification, .editTags:
                source = "hubspot"
                units = parsed?.objectValue.map { [$0["callbackId"]?.stringValue] }
            case .oneSignal:
                source = "onesignal"
                units = parsed?.objectValue.map { [OneSignalEventParser.field($0, "event_id", "event.id")?.identifierValue] }
            }
            let keys = Set((units ?? []).compactMap { $0 })
            preexistingKeys = Set(try await server.storedCounts(source: source, keys: Array(keys)).keys)
        }

        /// The documented key of a HubSpot webhook event: `subscriptionId:eventId:occurredAt:objectId`.
        static func hubSpotKey(_ event: JSONValue) -> String? {
            guard let eventID = event["eventId"]?.identifierValue,
                let objectID = event["objectId"]?.identifierValue ?? event["primaryObjectId"]?.identifierValue
            else { return nil }
            let milliseconds: Double?
            switch event["occurredAt"] {
            case .int(let value)?: milliseconds = Double(value)
            case .double(let value)?: milliseconds = value
            case .string(let text)?: milliseconds = Double(text)
            default: milliseconds = nil
            }
            guard let milliseconds, milliseconds.isFinite,
                let occurredAt = Int64(exactly: (Date(timeIntervalSince1970: milliseconds / 1000).timeIntervalSince1970 * 1000).rounded(.towardZero))
            else { return nil }
            return "\(event["subscriptionId"]?.identifierValue ?? "-"):\(eventID):\(occurredAt):\(objectID)"
        }
    }
}

/// Statuses seen by a property (its body runs sequentially, so a lock is only needed for `Sendable`).
final class Outcomes: @unchecked Sendable {
    private let lock = NSLock()
    private var seen: [HTTPResponse.Status: Int] = [:]

    func record(_ status: HTTPResponse.Status) {
        lock.withLock { seen[status, default: 0] += 1 }
    }

    var statuses: [HTTPResponse.Status: Int] { lock.withLock { seen } }
}
