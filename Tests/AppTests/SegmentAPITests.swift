import App
import CompressNIO
import EventStore
import Foundation
import Hummingbird
import Ingestion
import HTTPTypes
import HummingbirdTesting
import Logging
import Metrics
import NIOCore
import PQ
import Prometheus
import Testing
import TestSupport

/// The Segment-compatible API over real HTTP against a real PostgreSQL.
@Suite struct SegmentAPITests {
    static let writeKey = "test-write-key"
    static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }()

    /// Runs `body` with a live server on a fresh database.
    func withServer(_ body: @escaping @Sendable (any TestClientProtocol, TestDatabase) async throws -> Void) async throws {
        try await TestPostgres.withDatabase { database in
            var configuration = AppConfiguration(databaseURL: database.connectionString)
            configuration.writeKeys = [Self.writeKey, "second-key"]
            configuration.port = 0
            _ = Self.registry  // MetricsSystem is bootstrapped before the server makes its counters
            let application = HubSignalService.makeApplication(
                configuration: configuration, client: database.client, logger: TestPostgres.logger)
            try await application.test(.live) { client in try await body(client, database) }
        }
    }

    static func basic(_ key: String) -> HTTPFields {
        [.authorization: "Basic " + Data((key + ":").utf8).base64EncodedString(), .contentType: "application/json"]
    }

    /// The idempotency key of a message sent with `writeKey`: the key's id, a colon and the `messageId`.
    static func key(_ messageID: String, sentWith writeKey: String = writeKey) -> String {
        WriteKeyIDs.of(writeKey) + ":" + messageID
    }

    static func storedKeys(_ database: TestDatabase) async throws -> [String] {
        try await database.client.query("SELECT idempotency_key FROM events ORDER BY position").map { try $0.decode(String.self, at: 0) }
    }

    @Test func identifyIsStoredWithItsWriteKeyIDAndWithoutTheKey() async throws {
        try await withServer { client, database in
            let body = #"{"userId": "u1", "traits": {"email": "ada@example.com"}, "messageId": "m-1", "writeKey": "ignored"}"#
            try await client.execute(uri: "/v1/identify", method: .post, headers: Self.basic(Self.writeKey), body: ByteBuffer(string: body)) {
                response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == #"{"success":true}"#)
            }
            let row = try await database.client.query("SELECT type, stream, payload, metadata->>'writeKeyID', source FROM events")[0]
            let (type, stream, payload, writeKeyID, source) = try row.decode((String, String, PQJSONB, String, String).self)
            #expect(type == "segment.identify")
            #expect(stream == "user:u1")
            #expect(source == "segment")
            #expect(writeKeyID == WriteKeyIDs.of(Self.writeKey))
            #expect(!payload.string.contains("ignored"))
            #expect(!payload.string.contains(Self.writeKey))
            #expect(payload.string.contains("ada@example.com"))
        }
    }

    /// Members the normalization does not change are stored as sent: numbers keep their exact digits (beyond `Int64`
    /// and `Double`), escapes and Unicode their characters, and a batch's context merges into the message's.
    @Test func untouchedMembersAreStoredExactlyAsSent() async throws {
        try await withServer { client, database in
            let body = #"""
                {"batch": [{"type": "track", "userId": 42, "event": "Order \"Completed\" \u2713", "messageId": "m-1",
                  "properties": {"big": 123456789012345678901234567890, "price": 1.10, "tiny": 1e-7, "name": "caf\u00e9 ✓", "list": [1, {"a": null}]},
                  "context": {"ip": "10.0.0.1"}, "channel": "server"}],
                 "context": {"ip": "192.0.2.1", "locale": "de-DE"}}
                """#
            try await client.execute(uri: "/v1/batch", method: .post, headers: Self.basic(Self.writeKey), body: ByteBuffer(string: body)) {
                response in
                #expect(response.status == .ok, "\(String(buffer: response.body))")
            }
            let row = try await database.client.query(
                """
                SELECT payload->'properties'->>'big', payload->'properties'->>'price', payload->'properties'->>'tiny',
                       payload->'properties'->>'name', payload->'properties'->>'list', payload->>'event', payload->>'userId',
                       payload->'context'->>'ip', payload->'context'->>'locale', payload->>'channel', stream
                FROM events
                """)[0]
            let values = try row.decode((String, String, String, String, String, String, String, String, String, String, String).self)
            #expect(values.0 == "123456789012345678901234567890")
            #expect(values.1 == "1.10")
            #expect(values.2 == "0.0000001")
            #expect(values.3 == "café ✓")
            #expect(values.4 == #"[1, {"a": null}]"#)
            #expect(values.5 == #"Order "Completed" ✓"#)
            #expect(values.6 == "42" && values.10 == "user:42")
            #expect(values.7 == "10.0.0.1" && values.8 == "de-DE")
            #expect(values.9 == "server")
        }
    }

    @Test func theWriteKeyMayComeInTheBody() async throws {
        try await withServer { client, database in
            let body = #"{"batch": [{"type": "track", "userId": "u1", "event": "E", "messageId": "m-1"}], "writeKey": "second-key"}"#
            try await client.execute(uri: "/v1/batch", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: body)) {
                response in
                #expect(response.status == .ok)
            }
            #expect(try await Self.storedKeys(database) == [Self.key("m-1", sentWith: "second-key")])
        }
    }

    /// Idempotency keys are scoped by write key (issue 18 §3): one source cannot pre-claim another's `messageId`s,
    /// and a source's retries are still stored once.
    @Test func theSameMessageIdFromTwoWriteKeysIsStoredForEachAndRetriesOnce() async throws {
        try await withServer { client, database in
            func send(_ event: String, key: String, bodyKey: Bool = false) async throws {
                let body = ByteBuffer(
                    string: #"{"userId": "u-\#(event)", "event": "\#(event)", "messageId": "shared-1"\#(bodyKey ? #", "writeKey": "\#(key)""# : "")}"#)
                let headers: HTTPFields = bodyKey ? [.contentType: "application/json"] : Self.basic(key)
                try await client.execute(uri: "/v1/track", method: .post, headers: headers, body: body) { response in
                    #expect(response.status == .ok, "\(String(buffer: response.body))")
                }
            }
            // The first source claims the id; the second source's different event with the same id is stored too.
            try await send("First Source", key: Self.writeKey)
            try await send("Second Source", key: "second-key")
            // Retries of each (the key in the header or in the body) store nothing more.
            try await send("First Source", key: Self.writeKey)
            try await send("Second Source", key: "second-key", bodyKey: true)
            let rows = try await database.client.query(
                "SELECT idempotency_key, payload->>'event', payload->>'messageId', metadata->>'writeKeyID' FROM events ORDER BY position")
            let stored = try rows.map { try $0.decode((String, String, String, String).self) }
            #expect(stored.count == 2)
            #expect(stored.map(\.0) == [Self.key("shared-1"), Self.key("shared-1", sentWith: "second-key")])
            #expect(stored.map(\.1) == ["First Source", "Second Source"])
            #expect(stored.allSatisfy { $0.2 == "shared-1" }, "the payload keeps the messageId as sent")
            #expect(stored.map(\.3) == [WriteKeyIDs.of(Self.writeKey), WriteKeyIDs.of("second-key")])
        }
    }

    @Test func missingOrWrongWriteKeysAreRefusedAndNothingIsStored() async throws {
        try await withServer { client, database in
            let body = ByteBuffer(string: #"{"userId": "u1", "event": "E"}"#)
            for headers: HTTPFields in [[.contentType: "application/json"], Self.basic("wrong"), [.authorization: "Bearer \(Self.writeKey)"]] {
                try await client.execute(uri: "/v1/track", method: .post, headers: headers, body: body) { response in
                    #expect(response.status == .unauthorized)
                    #expect(String(buffer: response.body).contains("\"code\":\"unauthorized\""))
                }
            }
            let wrongInBody = ByteBuffer(string: #"{"userId": "u1", "event": "E", "writeKey": "nope"}"#)
            try await client.execute(uri: "/v1/track", method: .post, headers: [:], body: wrongInBody) { response in
                #expect(response.status == .unauthorized)
            }
            #expect(try await Self.storedKeys(database).isEmpty)
        }
    }

    /// A body's writeKey is checked before anything else of the body is normalized (issue 18 §2): without a valid key,
    /// whatever the body holds, the answer is 401 and says nothing about the body.
    @Test func aBodyWithoutAValidWriteKeyIsRefusedBeforeItsMessagesAreLookedAt() async throws {
        try await withServer { client, database in
            let big = String(repeating: "x", count: 40_000)
            let bodies: [(String, String)] = [
                ("/v1/track", #"{"event": "", "writeKey": "nope"}"#),
                ("/v1/track", #"{"userId": "u", "event": "E", "timestamp": "yesterday"}"#),
                ("/v1/identify", #"{"userId": "u", "traits": {"pad": "\#(big)"}, "writeKey": "nope"}"#),
                ("/v1/batch", #"{"batch": [{"type": "track", "userId": "u", "event": "E"}], "context": {"pad": "\#(big)"}, "writeKey": "nope"}"#),
                ("/v1/batch", #"{"batch": "not an array", "writeKey": 12}"#),
                ("/v1/batch", #"{"batch": [], "writeKey": "nope""#),
            ]
            for (path, body) in bodies {
                try await client.execute(uri: path, method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: body)) {
                    response in
                    #expect(response.status == .unauthorized, "\(path) \(body.prefix(80)): \(String(buffer: response.body))")
                    #expect(String(buffer: response.body).contains("\"code\":\"unauthorized\""))
                }
            }
            // With the key, the same problems are named.
            let named = #"{"event": "", "writeKey": "second-key"}"#
            try await client.execute(uri: "/v1/track", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: named)) {
                response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("invalid_message"))
            }
            let counts = try await database.client.query("SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM rejections)")[0]
                .decode((Int, Int).self)
            #expect(counts.0 == 0 && counts.1 == 0)
        }
    }

    @Test func malformedAndOversizeRequestsAreRefusedNamingTheProblem() async throws {
        try await withServer { client, database in
            let headers = Self.basic(Self.writeKey)
            try await client.execute(uri: "/v1/track", method: .post, headers: headers, body: ByteBuffer(string: #"{"userId": "u1", "#)) {
                response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("invalid_json"))
            }
            try await client.execute(uri: "/v1/batch", method: .post, headers: headers, body: ByteBuffer(string: #"{"batch": "nope"}"#)) {
                response in
                #expect(response.status == .badRequest)
            }
            let bigMessage = #"{"userId": "u1", "event": "E", "properties": {"x": "\#(String(repeating: "a", count: 33_000))"}}"#
            try await client.execute(uri: "/v1/track", method: .post, headers: headers, body: ByteBuffer(string: bigMessage)) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("message_too_large"))
                #expect(String(buffer: response.body).contains("32 KB"))
            }
            let messages = (0..<30).map { #"{"type": "track", "userId": "u\#($0)", "event": "E", "properties": {"x": "\#(String(repeating: "b", count: 20_000))"}}"# }
            let bigBatch = #"{"batch": [\#(messages.joined(separator: ","))]}"#
            try await client.execute(uri: "/v1/batch", method: .post, headers: headers, body: ByteBuffer(string: bigBatch)) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("request_too_large"))
                #expect(String(buffer: response.body).contains("500 KB"))
            }
            #expect(try await Self.storedKeys(database).isEmpty)
        }
    }

    @Test func gzipBodiesAreAcceptedAndGzipBombsRefused() async throws {
        try await withServer { client, database in
            var headers = Self.basic(Self.writeKey)
            headers[.contentEncoding] = "gzip"
            var plain = ByteBuffer(string: #"{"batch": [{"type": "page", "anonymousId": "a1", "name": "Home", "messageId": "gz-1"}]}"#)
            let compressed = try plain.compress(with: .gzip())
            try await client.execute(uri: "/v1/batch", method: .post, headers: headers, body: compressed) { response in
                #expect(response.status == .ok)
            }
            // 20 MB of spaces inside a valid JSON document compresses to about 20 KB.
            var bomb = ByteBuffer(string: #"{"batch": [], "padding": ""# + String(repeating: " ", count: 20_000_000) + #""}"#)
            let bombBody = try bomb.compress(with: .gzip())
            #expect(bombBody.readableBytes < 100_000)
            try await client.execute(uri: "/v1/batch", method: .post, headers: headers, body: bombBody) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("decompressed"))
            }
            headers[.contentEncoding] = "br"
            try await client.execute(uri: "/v1/batch", method: .post, headers: headers, body: compressed) { response in
                #expect(response.status == .unsupportedMediaType)
            }
            #expect(try await Self.storedKeys(database) == [Self.key("gz-1")])
        }
    }

    @Test func invalidMessagesOfABatchAreRecordedWhileTheRestIsStored() async throws {
        try await withServer { client, database in
            let body = ByteBuffer(
                string: """
                    {"batch": [
                      {"type": "track", "userId": "u1", "event": "Good", "messageId": "ok-1"},
                      {"type": "track", "userId": "u1", "messageId": "bad-1"},
                      {"type": "identify", "messageId": "bad-2", "traits": {"email": "x@example.com"}},
                      {"type": "group", "userId": "u1", "groupId": "g1", "messageId": "ok-2"}
                    ]}
                    """)
            var strict = Self.basic(Self.writeKey)
            strict[HTTPField.Name("X-Strict-Mode")!] = "1"
            try await client.execute(uri: "/v1/batch", method: .post, headers: strict, body: body) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("bad-1"))
            }
            #expect(try await Self.storedKeys(database).isEmpty)
            let rejectedBefore = try await database.client.query("SELECT count(*) FROM rejections")[0].decode(Int.self, at: 0)
            #expect(rejectedBefore == 0)

            try await client.execute(uri: "/v1/batch", method: .post, headers: Self.basic(Self.writeKey), body: body) { response in
                #expect(response.status == .ok)
                let text = String(buffer: response.body)
                #expect(text.contains("\"success\":true"))
                #expect(text.contains("\"index\":1"))
                #expect(text.contains("\"index\":2"))
            }
            #expect(try await Self.storedKeys(database) == [Self.key("ok-1"), Self.key("ok-2")])
            let rows = try await database.client.query(
                "SELECT message_index, message_id, reason, message->>'type', write_key_id FROM rejections ORDER BY message_index")
            let rejections = try rows.map { try $0.decode((Int, String?, String, String, String).self) }
            #expect(rejections.map(\.0) == [1, 2])
            #expect(rejections.map(\.1) == ["bad-1", "bad-2"])
            #expect(rejections[0].2.contains("event"))
            #expect(rejections[1].3 == "identify")
            #expect(rejections[0].4 == WriteKeyIDs.of(Self.writeKey))

            // /metrics is served by the admin listener.
            let admin = HubSignalService.makeAdminApplication(
                configuration: AppConfiguration(databaseURL: database.connectionString), client: database.client,
                migrations: try TestPostgres.migrations(), logger: TestPostgres.logger, metrics: Self.registry)
            try await admin.test(.router) { admin in
                try await admin.execute(uri: "/metrics", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(String(buffer: response.body).contains("hubsignal_ingest_rejected_messages_total"))
                }
            }
        }
    }

    /// 10,000 events from concurrent clients, a third of the requests sent twice: each event is stored exactly once.
    @Test func concurrentClientsWithRetriesStoreEachEventExactlyOnce() async throws {
        try await withServer { client, database in
            let requests = 100
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<8 {
                    group.addTask {
                        for request in stride(from: worker, to: requests, by: 8) {
                            let messages = (0..<100).map { index in
                                #"{"type": "track", "userId": "user-\#(index % 37)", "event": "Load Test", "messageId": "r\#(request)-\#(index)", "properties": {"n": \#(index)}}"#
                            }
                            let body = ByteBuffer(string: #"{"batch": [\#(messages.joined(separator: ","))]}"#)
                            let attempts = request % 3 == 0 ? 2 : 1
                            for _ in 0..<attempts {
                                try await client.execute(uri: "/v1/batch", method: .post, headers: Self.basic(Self.writeKey), body: body) {
                                    response in
                                    #expect(response.status == .ok)
                                }
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let counts = try await database.client.query(
                "SELECT count(*), count(DISTINCT idempotency_key) FROM events")[0].decode((Int, Int).self)
            #expect(counts.0 == 10_000)
            #expect(counts.1 == 10_000)
        }
    }
}

/// The write key id the API records, computed the same way as the server.
enum WriteKeyIDs {
    static func of(_ key: String) -> String { Ingestion.WriteKeys.id(of: key) }
}
