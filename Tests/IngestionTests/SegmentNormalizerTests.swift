import Domain
import Foundation
import Ingestion
import Testing

@Suite struct SegmentNormalizerTests {
    let receivedAt = ISO8601Timestamp.parse("2026-11-23T12:00:10.000Z")!

    func parse(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// What analytics-python 2.x sends for `analytics.identify(...)` + `track(...)` (its `batch` upload): ids may be
    /// null, timestamps carry microseconds and a `+00:00` offset, and `sentAt` is at the batch level.
    @Test func analyticsPythonBatchIsNormalizedWithClockSkewCorrection() throws {
        let body = parse(
            """
            {"batch": [
              {"integrations": {}, "anonymousId": null, "context": {"library": {"name": "analytics-python", "version": "2.3.2"}},
               "timestamp": "2026-11-23T12:00:00.123456+00:00", "type": "identify", "userId": "user-42",
               "traits": {"email": "ada@example.com", "firstName": "Ada"}, "messageId": "8b5c6f1e-0d2c-4a8a-9f7e-1d2c3b4a5f60"},
              {"integrations": {}, "anonymousId": null, "context": {"library": {"name": "analytics-python", "version": "2.3.2"}},
               "timestamp": "2026-11-23T12:00:01+00:00", "type": "track", "userId": "user-42", "event": "Signed Up",
               "properties": {"plan": "pro"}, "messageId": "0f6e2c1d-8a7b-4c3d-9e2f-1a0b9c8d7e6f"}
            ],
            "sentAt": "2026-11-23T12:00:05.000000+00:00"}
            """)
        let result = try SegmentNormalizer.normalize(body, endpoint: .batch, receivedAt: receivedAt)
        #expect(result.rejected.isEmpty)
        #expect(result.accepted.map(\.type) == [.identify, .track])
        let identify = result.accepted[0]
        #expect(identify.messageID == "8b5c6f1e-0d2c-4a8a-9f7e-1d2c3b4a5f60")
        #expect(identify.stream == "user:user-42")
        // The client's clock is 5 s behind the server's (sent at 12:00:05 by its clock, received at 12:00:10).
        #expect(abs(identify.occurredAt.timeIntervalSince(ISO8601Timestamp.parse("2026-11-23T12:00:05.123456Z")!)) < 0.000_01)
        #expect((try identify.json)["originalTimestamp"] == .string("2026-11-23T12:00:00.123456+00:00"))
        #expect((try identify.json)["timestamp"] == .string("2026-11-23T12:00:05.123Z"))
        #expect((try identify.json)["receivedAt"] == .string("2026-11-23T12:00:10.000Z"))
        #expect((try identify.json)["sentAt"] == .string("2026-11-23T12:00:05.000000+00:00"))
        #expect((try identify.json)["anonymousId"] == nil)
        #expect((try result.accepted[1].json)["event"] == .string("Signed Up"))
    }

    /// RudderStack's Python SDK sends identify traits only in `context.traits`.
    @Test func rudderStackIdentifyTraitsComeFromContext() throws {
        let body = parse(
            """
            {"userId": "u1", "anonymousId": "a1", "channel": "server", "type": "identify",
             "context": {"traits": {"email": "grace@example.com", "lastName": "Hopper"}, "library": {"name": "rudder-analytics-python", "version": "2.1.0"}},
             "originalTimestamp": "2026-11-23T11:59:59.000Z", "sentAt": "2026-11-23T12:00:09.000Z", "timestamp": "2026-11-23T12:00:09.000Z",
             "messageId": "rs-1", "writeKey": "secret-key"}
            """)
        let result = try SegmentNormalizer.normalize(body, endpoint: .single(.identify), receivedAt: receivedAt)
        #expect(result.bodyWriteKey == "secret-key")
        let message = try #require(result.accepted.first)
        #expect((try message.json)["traits"]?["email"] == .string("grace@example.com"))
        #expect((try message.json)["writeKey"] == nil)
        #expect((try message.json)["originalTimestamp"] == .string("2026-11-23T11:59:59.000Z"))
    }

    @Test func batchContextAndIntegrationsMergeWithTheMessageWinning() throws {
        let body = parse(
            """
            {"batch": [{"type": "track", "event": "E", "anonymousId": "anon-1", "context": {"ip": "10.0.0.1"}, "integrations": {"HubSpot": false}}],
             "context": {"ip": "192.0.2.1", "locale": "de-DE"}, "integrations": {"All": true, "HubSpot": true}}
            """)
        let message = try #require(try SegmentNormalizer.normalize(body, endpoint: .batch, receivedAt: receivedAt).accepted.first)
        #expect((try message.json)["context"] == .object(["ip": .string("10.0.0.1"), "locale": .string("de-DE")]))
        #expect((try message.json)["integrations"] == .object(["All": .bool(true), "HubSpot": .bool(false)]))
        #expect(message.stream == "anonymous:anon-1")
        // No timestamp: it happened when it was received; a messageId is assigned.
        #expect(message.occurredAt == receivedAt)
        #expect(message.messageID.hasPrefix("hubsignal-"))
    }

    @Test func invalidMessagesAreRejectedWithReasonsAndTheRestAccepted() throws {
        let body = parse(
            """
            {"batch": [
              {"type": "track", "userId": "u1", "event": "OK", "messageId": "m1"},
              {"type": "track", "userId": "u1", "messageId": "m2"},
              {"type": "identify", "messageId": "m3"},
              {"type": "group", "userId": "u1", "messageId": "m4"},
              {"type": "alias", "userId": "u1", "messageId": "m5"},
              {"type": "launch", "userId": "u1", "messageId": "m6"},
              {"type": "page", "userId": "u1", "messageId": "m7", "timestamp": "yesterday"},
              {"type": "identify", "userId": {"id": 1}, "messageId": "m8"},
              {"type": "identify", "userId": "u1", "traits": [1, 2], "messageId": "m9"},
              "not an object",
              {"type": "screen", "userId": 12345, "messageId": 777}
            ]}
            """)
        let result = try SegmentNormalizer.normalize(body, endpoint: .batch, receivedAt: receivedAt)
        #expect(result.accepted.map(\.messageID) == ["m1", "777"])
        #expect(result.accepted[1].stream == "user:12345")
        let reasons = Dictionary(uniqueKeysWithValues: result.rejected.map { ($0.index, $0.reason) })
        #expect(reasons[1]?.contains("\"event\"") == true)
        #expect(reasons[2]?.contains("\"userId\" or \"anonymousId\"") == true)
        #expect(reasons[3]?.contains("\"groupId\"") == true)
        #expect(reasons[4]?.contains("\"previousId\"") == true)
        #expect(reasons[5]?.contains("\"type\"") == true)
        #expect(reasons[6]?.contains("\"timestamp\"") == true)
        #expect(reasons[7]?.contains("\"userId\" must be a string") == true)
        #expect(reasons[8]?.contains("\"traits\" must be an object") == true)
        #expect(reasons[9]?.contains("not a JSON object") == true)
        #expect(result.rejected.first { $0.index == 1 }?.messageId == "m2")
    }

    @Test func requestLevelProblemsThrow() throws {
        let notObject = parse("[1, 2]")
        let error = #expect(throws: IngestionError.self) {
            try SegmentNormalizer.normalize(notObject, endpoint: .batch, receivedAt: receivedAt)
        }
        #expect(error?.status == 400)
        #expect(throws: IngestionError.self) {
            try SegmentNormalizer.normalize(parse(#"{"batch": {}}"#), endpoint: .batch, receivedAt: receivedAt)
        }
        #expect(throws: IngestionError.self) {
            try SegmentNormalizer.normalize(parse(#"{"type": "track"}"#), endpoint: .single(.track), receivedAt: receivedAt)
        }
        let huge = String(repeating: "x", count: 33 * 1024)
        let oversize = #expect(throws: IngestionError.self) {
            try SegmentNormalizer.normalize(
                parse(#"{"batch": [{"type": "track", "userId": "u", "event": "E", "properties": {"blob": "\#(huge)"}}]}"#),
                endpoint: .batch, receivedAt: receivedAt)
        }
        #expect(oversize?.code == "message_too_large")
        #expect(oversize?.message.contains("32 KB") == true)
    }

    @Test func aliasNeedsBothIdentities() throws {
        let ok = try SegmentNormalizer.normalize(
            parse(#"{"userId": "u2", "previousId": "anon-9"}"#), endpoint: .single(.alias), receivedAt: receivedAt)
        #expect(ok.accepted.first?.stream == "user:u2")
        #expect(throws: IngestionError.self) {
            try SegmentNormalizer.normalize(parse(#"{"previousId": "anon-9"}"#), endpoint: .single(.alias), receivedAt: receivedAt)
        }
    }
}

extension NormalizedMessage {
    /// The stored message, parsed.
    var json: JSONValue { get throws { try JSONValue.parse(payload) } }
}

@Suite struct ISO8601TimestampTests {
    @Test func parsesTheFormsLibrariesSend() throws {
        let reference = Date(timeIntervalSince1970: 1_795_449_887)
        #expect(ISO8601Timestamp.parse("2026-11-23T16:04:47Z") == reference)
        #expect(ISO8601Timestamp.parse("2026-11-23T16:04:47.000Z") == reference)
        #expect(ISO8601Timestamp.parse("2026-11-23T17:04:47+01:00") == reference)
        #expect(ISO8601Timestamp.parse("2026-11-23T11:04:47-0500") == reference)
        let micro = try #require(ISO8601Timestamp.parse("2026-11-23T16:04:47.123456+00:00"))
        #expect(abs(micro.timeIntervalSince(reference) - 0.123456) < 0.000_001)
        #expect(ISO8601Timestamp.parse("2026-11-23") == nil)
        #expect(ISO8601Timestamp.parse("2026-11-23T16:04:47") == nil)
        #expect(ISO8601Timestamp.parse("yesterday") == nil)
        #expect(ISO8601Timestamp.parse("2026-13-01T00:00:00Z") == nil)
    }

    @Test func formatsUTCWithMilliseconds() {
        #expect(ISO8601Timestamp.format(Date(timeIntervalSince1970: 1_795_449_887.5)) == "2026-11-23T16:04:47.500Z")
        #expect(ISO8601Timestamp.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(ISO8601Timestamp.format(Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00.000Z")
    }
}

@Suite struct WriteKeysTests {
    @Test func acceptsConfiguredKeysOnlyAndNamesThemByID() {
        let keys = WriteKeys(commaSeparated: "key-one, key-two,,")
        #expect(keys.id(of: "key-one") == WriteKeys.id(of: "key-one"))
        #expect(keys.id(of: "key-two") != nil)
        #expect(keys.id(of: "key-three") == nil)
        #expect(keys.id(of: "") == nil)
        #expect(WriteKeys.id(of: "key-one").hasPrefix("wk_"))
        #expect(!WriteKeys.id(of: "key-one").contains("key-one"))
        #expect(WriteKeys([]).isEmpty)
    }
}
