import App
import Foundation
import HTTPTypes
import Ingestion
import Testing
import TestSupport

/// The paths the browser and mobile SDKs post to, sent as each SDK sends them (read from the SDKs' sources; H6's
/// fixtures replay whole requests): analytics-next's one-letter paths with a `text/plain` body carrying `writeKey`, its
/// batching mode's `/v1/b`, the mobile SDKs' `/v1/b` with HTTP Basic, RudderStack JS's beacon path with the key in the
/// query.
@Suite struct SegmentBrowserPathsTests {
    /// A call as analytics-next's standard dispatcher posts it (`fetch`, `Content-Type: text/plain`, the key in the body).
    static func analyticsNextCall(_ type: String, messageID: String, writeKey: String = IngestionTestServer.writeKey) -> [UInt8] {
        var members = [
            #""type": "\#(type)""#, #""messageId": "\#(messageID)""#, #""anonymousId": "anon-\#(messageID)""#,
            #""timestamp": "2026-12-06T10:00:00.000Z""#, #""sentAt": "2026-12-06T10:00:00.100Z""#, #""writeKey": "\#(writeKey)""#,
            #""integrations": {}"#, #""_metadata": {"bundled": ["Segment.io"], "unbundled": [], "bundledIds": []}"#,
            #""context": {"library": {"name": "analytics.js", "version": "npm:next-1.81.0"}, "locale": "en-US", "userAgent": "Mozilla/5.0", "page": {"path": "/", "url": "https://app.example.com/", "title": "Home", "referrer": "", "search": ""}}"#,
        ]
        switch type {
        case "track": members.append(#""event": "Signed Up", "properties": {"plan": "pro"}"#)
        case "identify": members.append(#""userId": "u-\#(messageID)", "traits": {"email": "ada@example.com"}"#)
        case "page": members.append(#""name": "Home", "properties": {"path": "/"}"#)
        case "screen": members.append(#""name": "Home""#)
        case "group": members.append(#""groupId": "g-1", "traits": {"name": "Acme"}"#)
        default: members.append(#""userId": "u-new", "previousId": "anon-\#(messageID)""#)
        }
        return Array(("{" + members.joined(separator: ", ") + "}").utf8)
    }

    static let textPlain: HTTPFields = [.contentType: "text/plain"]

    @Test(arguments: ["track", "identify", "page", "screen", "group", "alias"])
    func eachOneLetterPathStoresItsCallType(_ type: String) async throws {
        try await IngestionTestServer.with { server in
            let path = "/v1/" + type.prefix(1)
            let answer = try await server.send(path: path, body: Self.analyticsNextCall(type, messageID: "m-\(type)"), headers: Self.textPlain)
            #expect(answer.status == .ok, "\(answer.body)")
            #expect(answer.body == #"{"success":true}"#)
            let rows = try await server.database.client.query("SELECT type, metadata->>'endpoint', payload ? 'writeKey' FROM events")
            #expect(rows.count == 1)
            let (storedType, endpoint, hasWriteKey) = try rows[0].decode((String, String, Bool).self)
            #expect(storedType == "segment.\(type)")
            #expect(endpoint == path)
            #expect(!hasWriteKey)
        }
    }

    @Test func aOneLetterPathNeedsAWriteKey() async throws {
        try await IngestionTestServer.with { server in
            let answer = try await server.send(
                path: "/v1/t", body: Self.analyticsNextCall("track", messageID: "m-1", writeKey: "not-a-key"), headers: Self.textPlain)
            #expect(answer.status == .unauthorized)
            #expect(try await server.counts().events == 0)
        }
    }

    /// analytics-next's batching mode: `{writeKey, batch, sentAt}` to `/v1/b`, each event without its own `sentAt`.
    @Test func analyticsNextBatchesGoToB() async throws {
        try await IngestionTestServer.with { server in
            let body = Array(
                #"""
                {"writeKey": "\#(IngestionTestServer.writeKey)", "sentAt": "2026-12-06T10:00:01.000Z", "batch": [
                  {"type": "track", "event": "A", "anonymousId": "anon-1", "messageId": "ajs-1", "timestamp": "2026-12-06T10:00:00.000Z"},
                  {"type": "page", "name": "Home", "anonymousId": "anon-1", "messageId": "ajs-2", "timestamp": "2026-12-06T10:00:00.500Z"}]}
                """#.utf8)
            let answer = try await server.send(path: "/v1/b", body: body, headers: Self.textPlain)
            #expect(answer.status == .ok, "\(answer.body)")
            #expect(try await server.storedCounts(source: "segment", keys: ["ajs-1", "ajs-2"]) == ["ajs-1": 1, "ajs-2": 1])
        }
    }

    /// The mobile SDKs (analytics-swift, analytics-kotlin, analytics-react-native) post batches to `/v1/b` with HTTP Basic.
    @Test func mobileBatchesGoToBWithBasicAuthentication() async throws {
        try await IngestionTestServer.with { server in
            let body = Array(#"{"batch": [{"type": "screen", "name": "Home", "userId": "u1", "messageId": "ios-1"}], "sentAt": "2026-12-06T10:00:01.000Z"}"#.utf8)
            let answer = try await server.send(path: "/v1/b", body: body, headers: IngestionTestServer.basic(IngestionTestServer.writeKey))
            #expect(answer.status == .ok, "\(answer.body)")
            #expect(try await server.storedCounts(source: "segment", keys: ["ios-1"]) == ["ios-1": 1])
        }
    }

    /// RudderStack's JavaScript SDK with `useBeacon`: `sendBeacon` to `/beacon/v1/batch?writeKey=<percent-encoded key>`.
    @Test func rudderStackBeaconsCarryTheKeyInTheQuery() async throws {
        let key = "rs key&#=1"
        try await IngestionTestServer.with(configure: { $0.writeKeys.append(key) }) { server in
            let body = Array(#"{"batch": [{"type": "track", "event": "Clicked", "anonymousId": "a1", "messageId": "rs-1"}]}"#.utf8)
            let encoded = "rs%20key%26%23%3D1"
            let answer = try await server.send(path: "/beacon/v1/batch?writeKey=\(encoded)", body: body, headers: Self.textPlain)
            #expect(answer.status == .ok, "\(answer.body)")
            let stored = try await server.database.client.query("SELECT idempotency_key FROM events").map { try $0.decode(String.self, at: 0) }
            #expect(stored == [WriteKeys.id(of: key) + ":rs-1"])

            let wrong = try await server.send(path: "/beacon/v1/batch?writeKey=other", body: body, headers: Self.textPlain)
            #expect(wrong.status == .unauthorized)
        }
    }

    /// analytics-java posts to `/v1/import/` (its default path, with a trailing slash).
    @Test func aTrailingSlashIsTheSamePath() async throws {
        try await IngestionTestServer.with { server in
            let body = Array(#"{"batch": [{"type": "track", "event": "E", "userId": "u1", "messageId": "java-1"}]}"#.utf8)
            let answer = try await server.send(path: "/v1/import/", body: body, headers: IngestionTestServer.basic(IngestionTestServer.writeKey))
            #expect(answer.status == .ok, "\(answer.body)")
            #expect(try await server.storedCounts(source: "segment", keys: ["java-1"]) == ["java-1": 1])
        }
    }

    /// The query is read on the beacon path only: elsewhere a key in the URL (and so in proxies' logs) is not accepted.
    @Test func theQueryWriteKeyIsNotReadElsewhere() async throws {
        try await IngestionTestServer.with { server in
            let body = Array(#"{"batch": [{"type": "track", "event": "Clicked", "anonymousId": "a1", "messageId": "q-1"}]}"#.utf8)
            let answer = try await server.send(
                path: "/v1/batch?writeKey=\(IngestionTestServer.writeKey)", body: body, headers: Self.textPlain)
            #expect(answer.status == .unauthorized)
            #expect(try await server.counts().events == 0)
        }
    }
}
