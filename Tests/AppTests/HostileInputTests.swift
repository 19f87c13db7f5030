import CompressNIO
import EmbeddedPostgres
import FaultHarness
import Foundation
import HTTPTypes
import Ingestion
import Logging
import NIOCore
import NIOPosix
import PQ
import Testing
import TestSupport

/// One test per kind of hostile input (issue 8 §2), over real HTTP against the real application and PostgreSQL:
/// deep nesting, strings at the size limits, invalid UTF-8 and NUL bytes, gzip bombs, wrong content types,
/// SQL-looking strings, header injection, replayed HubSpot signatures, oversized HubSpot payloads.
///
/// What `SegmentAPITests` and `WebhookAPITests` already cover (a gzip bomb on `/v1/batch`, stale, tampered and v1
/// signatures, an exact webhook replay) is not repeated here.
@Suite struct HostileInputTests {
    typealias Server = IngestionTestServer

    /// A valid payload for each endpoint, with `marker` where a hostile string goes.
    static func payload(_ endpoint: IngestionEndpoint, marker: String = "MARK") -> String {
        let id = UUID().uuidString
        switch endpoint {
        case .identify: return #"{"userId": "u-\#(id)", "messageId": "m-\#(id)", "traits": {"note": "\#(marker)"}}"#
        case .track: return #"{"userId": "u-\#(id)", "messageId": "m-\#(id)", "event": "E", "properties": {"note": "\#(marker)"}}"#
        case .page, .screen: return #"{"userId": "u-\#(id)", "messageId": "m-\#(id)", "name": "\#(marker)"}"#
        case .group: return #"{"userId": "u-\#(id)", "messageId": "m-\#(id)", "groupId": "g", "traits": {"note": "\#(marker)"}}"#
        case .alias: return #"{"userId": "u-\#(id)", "messageId": "m-\#(id)", "previousId": "p", "context": {"note": "\#(marker)"}}"#
        case .batch, .import:
            return #"{"batch": [{"type": "track", "userId": "u-\#(id)", "messageId": "m-\#(id)", "event": "E", "properties": {"note": "\#(marker)"}}]}"#
        case .hubSpotWebhook:
            return #"[{"eventId": 1, "subscriptionId": 2, "portalId": 27356661, "occurredAt": 1700000000000, "subscriptionType": "contact.propertyChange", "objectId": 3, "propertyName": "note", "propertyValue": "\#(marker)", "x": "\#(id)"}]"#
        case .sendNotification:
            return #"{"callbackId": "ap-\#(id)", "origin": {"portalId": 27356661}, "object": {"objectId": 9, "objectType": "CONTACT"}, "inputFields": {"content": "\#(marker)"}}"#
        case .editTags:
            return #"{"callbackId": "ap-\#(id)", "origin": {"portalId": 27356661}, "object": {"objectId": 9, "objectType": "CONTACT"}, "inputFields": {"tags": "{\"note\": \"x\"}", "note": "\#(marker)"}}"#
        case .oneSignal:
            return #"{"event_id": "ev-\#(id)", "kind": "message.push.clicked", "timestamp": 1708559115, "external_id": "u-\#(id)", "title": "\#(marker)"}"#
        }
    }

    /// Expects a refusal with the JSON error shape, `status`, and a message containing each of `mentions`.
    static func expectRefused(
        _ answer: Server.Answer, status: Int = 400, code: String? = nil, mentioning mentions: [String] = [], _ context: String = "",
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(answer.status.code == status, "\(context): \(answer.status.code) \(answer.body)", sourceLocation: sourceLocation)
        guard let error = answer.error else {
            Issue.record("\(context): not the JSON error shape: \(answer.body)", sourceLocation: sourceLocation)
            return
        }
        if let code { #expect(error.code == code, "\(context): \(answer.body)", sourceLocation: sourceLocation) }
        for mention in mentions {
            #expect(error.message.contains(mention), "\(context): the message should mention \(mention): \(error.message)", sourceLocation: sourceLocation)
        }
    }

    static func expectStored(events: Int, rejections: Int, on server: Server, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let counts = try await server.counts()
        #expect(counts.events == events, "events", sourceLocation: sourceLocation)
        #expect(counts.rejections == rejections, "rejections", sourceLocation: sourceLocation)
    }

    // MARK: - Deep nesting

    @Test func deepNestingIsRefusedOnEveryEndpointWithoutExhaustingTheStack() async throws {
        try await Server.with { server in
            for endpoint in IngestionEndpoint.allCases {
                // OneSignal events are at most 64 KB.
                let size = endpoint == .oneSignal ? 60_000 : 100_000
                let arrays = Array(repeating: UInt8(ascii: "["), count: size)
                let objects = Array(String(repeating: #"{"a":"#, count: size / 5).utf8)
                for body in [arrays, objects] {
                    let answer = try await server.send(endpoint, body: body)
                    Self.expectRefused(answer, code: "invalid_json", mentioning: ["nesting deeper than 64 levels"], "\(endpoint)")
                }
            }
            // Exactly 64 levels are accepted (the message is level 1, properties 2, then 62 arrays); 65 are not.
            for (depth, accepted) in [(62, true), (63, false)] {
                let nested = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
                let body = #"{"userId": "deep", "event": "Deep", "properties": {"n": \#(nested)}}"#
                let answer = try await server.send(.track, body: Array(body.utf8))
                #expect((answer.status == .ok) == accepted, "\(depth): \(answer.body)")
            }
            #expect(try await server.counts().events == 1)
        }
    }

    // MARK: - Huge strings at the size limits

    /// Pads `json` (an object) with a `"pad"` string member so that the whole text is exactly `size` bytes.
    static func padded(_ json: String, to size: Int) -> [UInt8] {
        let skeleton = String(json.dropLast()) + #", "pad": ""}"#
        return Array((String(json.dropLast()) + #", "pad": "\#(String(repeating: "x", count: size - skeleton.utf8.count))"}"#).utf8)
    }

    @Test func hugeStringsAtTheSegmentLimitsAreStoredWholeOrRefusedNamingTheLimit() async throws {
        try await Server.with { server in
            // One message of exactly 32 KB (as re-encoded: this compact JSON is re-encoded to the same size).
            let message = #"{"userId":"big","event":"Big","messageId":"big-1","properties":{"s":""}}"#
            let fill = SegmentNormalizer.maximumMessageBytes - message.utf8.count
            let filler = String(repeating: "é", count: fill / 2) + String(repeating: "x", count: fill % 2)
            let atLimit = message.replacingOccurrences(of: #""s":"""#, with: #""s":"\#(filler)""#)
            #expect(atLimit.utf8.count == SegmentNormalizer.maximumMessageBytes)
            #expect(try await server.send(.track, body: Array(atLimit.utf8)).status == .ok)
            let stored = try await server.database.client.query("SELECT payload->'properties'->>'s' FROM events")[0].decode(String.self, at: 0)
            #expect(stored == filler)

            let overLimit = atLimit.replacingOccurrences(of: "big-1", with: "big-22")
            Self.expectRefused(
                try await server.send(.track, body: Array(overLimit.utf8)), code: "message_too_large",
                mentioning: ["32769 bytes", "32 KB"])

            // A batch request of exactly 500 KB (whitespace after the JSON counts) is read; one byte more is refused.
            let messages = (0..<20).map { #"{"type":"track","userId":"u","event":"E","messageId":"b-\#($0)","properties":{"s":"\#(String(repeating: "y", count: 24_000))"}}"# }
            var batch = Array(#"{"batch":[\#(messages.joined(separator: ","))]}"#.utf8)
            batch += Array(repeating: UInt8(ascii: " "), count: SegmentNormalizer.maximumRequestBytes - batch.count)
            #expect(try await server.send(.batch, body: batch).status == .ok)
            Self.expectRefused(
                try await server.send(.batch, body: batch + [UInt8(ascii: " ")]), code: "request_too_large",
                mentioning: ["\(SegmentNormalizer.maximumRequestBytes) bytes", "500 KB"])
            #expect(try await server.counts().events == 21)
        }
    }

    // MARK: - Batch context amplification (issue 18 §1)

    /// A batch request of about 500 KB: a batch `context` with a `pad` of `contextPad` bytes, and small messages filling
    /// the rest. Every message inherits the context when it is stored.
    static func amplifyingBatch(contextPad: Int) -> [UInt8] {
        let head = #"{"context": {"library": {"name": "analytics.js"}, "pad": "\#(String(repeating: "x", count: contextPad))"}, "batch": ["#
        var body = Array(head.utf8)
        var index = 0
        while body.count < 490_000 {
            if index > 0 { body.append(UInt8(ascii: ",")) }
            body += Array(#"{"type":"track","userId":"u-\#(index % 50)","event":"E","messageId":"amp-\#(index)"}"#.utf8)
            index += 1
        }
        body += Array("]}".utf8)
        return body
    }

    /// A batch of about 500 KB of empty messages (166,000 of them).
    static let emptyMessages: [UInt8] = {
        var body = Array(#"{"batch": ["#.utf8)
        while body.count < 499_990 { body += Array("{},".utf8) }
        return body + Array("{}]}".utf8)
    }()

    /// The amplifying batches, plain and gzipped, and the empty messages, refused by a real `hubsignal serve`, whose
    /// resident memory grows by less than 128 MB: measured on that process alone, not on this test process, where
    /// other suites allocate at the same time.
    @Test func refusingAmplifyingBatchesDoesNotGrowServesMemory() async throws {
        try await TestPostgres.withDatabase { database in
            let serve = try ServeProcess(
                port: try EmbeddedPostgres.findFreePort(),
                environment: [
                    "DATABASE_URL": database.connectionString, "HUBSIGNAL_WRITE_KEYS": IngestionTestServer.writeKey,
                    "HUBSIGNAL_MIGRATIONS_DIR": TestPostgres.migrationsDirectory.path,
                ])
            do {
                try await serve.waitUntilReady()
                let small = Array(#"{"batch":[{"type":"track","userId":"u","event":"Warm","messageId":"warm-1"}]}"#.utf8)
                #expect(try Self.post(small, to: serve).status == 200)
                let before = try #require(serve.residentMemoryBytes)
                var compressed = ByteBuffer(bytes: Self.amplifyingBatch(contextPad: 30_000))
                let gzipped = Array(try compressed.compress(with: .gzip()).readableBytesView)
                for (body, gzip) in [
                    (Self.amplifyingBatch(contextPad: 40_000), false), (Self.amplifyingBatch(contextPad: 30_000), false),
                    (gzipped, true), (Self.emptyMessages, false),
                ] {
                    #expect(try Self.post(body, to: serve, gzip: gzip).status == 400)
                }
                let grown = try #require(serve.residentMemoryBytes) - before
                #expect(grown < 128 << 20, "serve's resident memory grew by \(grown >> 20) MB")
            } catch {
                await serve.kill()
                throw error
            }
            #expect(await serve.terminate() == 0, "serve did not exit cleanly: \(serve.logTail())")
        }
    }

    /// POSTs `body` to `/v1/batch` of `serve` with the test write key.
    static func post(_ body: [UInt8], to serve: ServeProcess, gzip: Bool = false) throws -> RawHTTP.Response {
        let head = "POST /v1/batch HTTP/1.1\r\nHost: 127.0.0.1:\(serve.port)\r\nContent-Type: application/json\r\n"
            + "Authorization: Basic \(Data("\(IngestionTestServer.writeKey):".utf8).base64EncodedString())\r\n"
            + (gzip ? "Content-Encoding: gzip\r\n" : "") + "Content-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        return try RawHTTP.send(port: serve.port, bytes: Array(head.utf8) + body)
    }

    @Test func aBatchContextInheritedByManyMessagesIsRefusedWhole() async throws {
        try await Server.with { server in
            try await server.expectStillAnswering()

            // A 40 KB context: each small message would be stored at over 32 KB.
            let overMessageLimit = Self.amplifyingBatch(contextPad: 40_000)
            #expect(overMessageLimit.count <= SegmentNormalizer.maximumRequestBytes)
            Self.expectRefused(
                try await server.send(.batch, body: overMessageLimit), code: "message_too_large",
                mentioning: ["message 0 ", "as stored", "32768 bytes (32 KB)"])

            // A 30 KB context: each message stays under 32 KB, but together they would store hundreds of megabytes.
            let overRequestLimit = Self.amplifyingBatch(contextPad: 30_000)
            Self.expectRefused(
                try await server.send(.batch, body: overRequestLimit), code: "request_too_large",
                mentioning: ["as stored", "2097152 bytes (2 MB)"])

            // The same through gzip: the 500 KB limit applies to the inflated body, the stored limits after it.
            var buffer = ByteBuffer(bytes: overRequestLimit)
            let compressed = try buffer.compress(with: .gzip())
            var headers = IngestionEndpoint.batch.authenticatedHeaders(for: [])
            headers[.contentEncoding] = "gzip"
            Self.expectRefused(
                try await server.send(.batch, body: Array(compressed.readableBytesView), headers: headers), code: "request_too_large",
                mentioning: ["2097152 bytes (2 MB)"])

            // 166,000 empty messages: each would be a row of `rejections`, and each a message read into memory.
            Self.expectRefused(
                try await server.send(.batch, body: Self.emptyMessages), code: "request_too_large",
                mentioning: ["rejected ones", "2097152 bytes (2 MB)"])
            #expect(try await server.counts().events == 1, "only the warm-up event is stored")
            #expect(try await server.counts().rejections == 0)

            // Just under both limits, the same shape is stored whole: 60 messages inheriting a 30 KB context.
            let context = #"{"pad": "\#(String(repeating: "y", count: 30_000))"}"#
            let messages = (0..<60).map { #"{"type":"track","userId":"u","event":"E","messageId":"fits-\#($0)"}"# }
            let fits = #"{"context": \#(context), "batch": [\#(messages.joined(separator: ","))]}"#
            let answer = try await server.send(.batch, body: Array(fits.utf8))
            #expect(answer.status == .ok, "\(answer.body)")
            #expect(try await server.counts().events == 61)
        }
    }

    @Test func oversizedHubSpotWorkflowActionsAndWebhookArraysAreRefusedNamingTheLimit() async throws {
        try await Server.with { server in
            // Workflow actions: 256 KB.
            let action = Self.payload(.sendNotification)
            let atLimit = Self.padded(action, to: 256 * 1024)
            #expect(try await server.send(.sendNotification, body: atLimit).status == .ok)
            Self.expectRefused(
                try await server.send(.sendNotification, body: Self.padded(Self.payload(.sendNotification), to: 256 * 1024 + 1)),
                code: "request_too_large", mentioning: ["262144 bytes", "256 KB"])
            // Webhook deliveries: 1 MB, however many events the array holds.
            let event = #"{"eventId":1,"subscriptionId":2,"portalId":27356661,"occurredAt":1700000000000,"subscriptionType":"contact.creation","objectId":3}"#
            var array = Array("[\(Array(repeating: event, count: 8_000).joined(separator: ","))]".utf8)
            #expect(array.count < 1024 * 1024)
            array += Array(repeating: UInt8(ascii: " "), count: 1024 * 1024 - array.count)
            let answer = try await server.send(.hubSpotWebhook, body: array)
            #expect(answer.status == .ok, "\(answer.body.prefix(300))")
            array.append(UInt8(ascii: " "))
            Self.expectRefused(
                try await server.send(.hubSpotWebhook, body: array), code: "request_too_large", mentioning: ["1048576 bytes", "1024 KB"])
            // The 8,000 copies of one event are one event.
            #expect(try await server.counts().events == 2)
        }
    }

    // MARK: - Invalid UTF-8 and NUL bytes

    @Test func invalidUTF8AndNULBytesInStringsAndKeysAreRefusedCleanlyEverywhere() async throws {
        try await Server.with { server in
            let hostile: [(String, [UInt8], String)] = [
                ("invalid UTF-8", [0xFF, 0xFE], "invalid UTF-8"),
                ("an overlong NUL", [0xC0, 0x80], "invalid UTF-8"),
                ("a UTF-8 surrogate", [0xED, 0xA0, 0x80], "invalid UTF-8"),
                ("a raw NUL byte", [0x61, 0x00, 0x62], "control character"),
                ("an escaped NUL", Array(#"a\u0000b"#.utf8), "\\u0000"),
                ("a lone surrogate", Array(#"\ud800"#.utf8), "lone surrogate"),
            ]
            for endpoint in IngestionEndpoint.allCases {
                for (name, bytes, reason) in hostile {
                    let marked = Array(Self.payload(endpoint).utf8)
                    // In a value…
                    let inValue = Self.replacing(Array("MARK".utf8), with: bytes, in: marked)
                    Self.expectRefused(try await server.send(endpoint, body: inValue), code: "invalid_json", mentioning: [reason], "\(endpoint), \(name) in a value")
                    // …and in a key.
                    let inKey = Self.replacing(Array(#""MARK""#.utf8), with: Array(#""MARK", "k"#.utf8) + bytes + Array(#"": 1"#.utf8), in: marked)
                    Self.expectRefused(try await server.send(endpoint, body: inKey), code: "invalid_json", mentioning: [reason], "\(endpoint), \(name) in a key")
                }
            }
            try await Self.expectStored(events: 0, rejections: 0, on: server)

            // What is valid is stored byte for byte: non-ASCII text, escapes of control characters.
            let text = "Zoë \u{1F600} \u{202E} \t\u{1}"
            let body = Array(#"{"userId": "utf8", "event": "#.utf8) + FuzzJSON.string(text).bytes + Array("}".utf8)
            #expect(try await server.send(.track, body: body).status == .ok)
            let stored = try await server.database.client.query("SELECT payload->>'event' FROM events")[0].decode(String.self, at: 0)
            #expect(stored == text)
        }
    }

    static func replacing(_ needle: [UInt8], with replacement: [UInt8], in haystack: [UInt8]) -> [UInt8] {
        guard let start = (0...(haystack.count - needle.count)).first(where: { Array(haystack[$0..<($0 + needle.count)]) == needle }) else {
            return haystack
        }
        return Array(haystack[..<start]) + replacement + Array(haystack[(start + needle.count)...])
    }

    // MARK: - Gzip bombs

    @Test func compressionBombsAndBrokenCompressedBodiesAreRefused() async throws {
        try await Server.with { server in
            // 20 MB of spaces inside valid JSON compress to about 20 KB.
            var inflated = ByteBuffer(string: #"{"padding": ""# + String(repeating: " ", count: 20_000_000) + #""}"#)
            let gzipBomb = Array(try inflated.compress(with: .gzip()).readableBytesView)
            inflated.moveReaderIndex(to: 0)
            let deflateBomb = Array(try inflated.compress(with: .zlib()).readableBytesView)
            #expect(gzipBomb.count < 100_000 && deflateBomb.count < 100_000)

            for (endpoint, encoding, bomb, limit) in [
                (IngestionEndpoint.track, "deflate", deflateBomb, "500 KB"), (.identify, "x-gzip", gzipBomb, "500 KB"),
                (.oneSignal, "gzip", gzipBomb, "64 KB"), (.oneSignal, "deflate", deflateBomb, "64 KB"),
            ] {
                var headers = endpoint.authenticatedHeaders(for: bomb)
                headers[.contentEncoding] = encoding
                Self.expectRefused(
                    try await server.send(endpoint, body: bomb, headers: headers), code: "request_too_large",
                    mentioning: ["decompressed", limit], "\(endpoint) \(encoding)")
            }
            // A body that is not gzip at all; a gzip body cut off (what it decompresses to is cut off JSON).
            let notGzip = Array("{}".utf8)
            var headers = IngestionEndpoint.oneSignal.authenticatedHeaders(for: notGzip)
            headers[.contentEncoding] = "gzip"
            Self.expectRefused(try await server.send(.oneSignal, body: notGzip, headers: headers), code: "invalid_encoding", mentioning: ["gzip"])
            var small = ByteBuffer(string: Self.payload(.track))
            let gzip = Array(try small.compress(with: .gzip()).readableBytesView)
            // (Cut inside the 8-byte trailer, the JSON is whole and accepted: the trailer's checksum is not verified.)
            for cut in [5, gzip.count / 2] {
                let body = Array(gzip.prefix(cut))
                var headers = IngestionEndpoint.track.authenticatedHeaders(for: body)
                headers[.contentEncoding] = "gzip"
                let answer = try await server.send(.track, body: body, headers: headers)
                Self.expectRefused(answer, "gzip cut at \(cut) of \(gzip.count) bytes")
                #expect(["invalid_encoding", "invalid_json"].contains(answer.error?.code ?? ""), "\(answer.body)")
            }
            // A gzip bomb inside a gzip body decompresses once, to something that is not JSON.
            var outer = ByteBuffer(bytes: gzipBomb)
            let double = Array(try outer.compress(with: .gzip()).readableBytesView)
            headers = IngestionEndpoint.oneSignal.authenticatedHeaders(for: double)
            headers[.contentEncoding] = "gzip"
            Self.expectRefused(try await server.send(.oneSignal, body: double, headers: headers), code: "invalid_json")

            // HubSpot signs the bytes it sends and never compresses them: compressed bodies are refused before any
            // decompression, naming the encoding.
            for endpoint in IngestionEndpoint.hubSpot {
                var headers = endpoint.authenticatedHeaders(for: gzipBomb)
                headers[.contentEncoding] = "gzip"
                Self.expectRefused(
                    try await server.send(endpoint, body: gzipBomb, headers: headers), status: 415, code: "unsupported_encoding",
                    mentioning: ["gzip"], "\(endpoint)")
            }
            try await Self.expectStored(events: 0, rejections: 0, on: server)
        }
    }

    // MARK: - Content types

    /// The documented behaviour: the body must be JSON whatever `Content-Type` says. The header is not consulted
    /// (analytics.js sends `text/plain` to avoid a CORS preflight; some SDKs send none), so a wrong or missing one
    /// neither refuses a JSON body nor gets a body of another format parsed.
    @Test func contentTypesAreNotConsultedAndEveryBodyMustBeJSON() async throws {
        try await Server.with { server in
            let contentTypes: [String?] = [nil, "text/plain", "application/json; charset=utf-8", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml"]
            for endpoint in IngestionEndpoint.allCases {
                for contentType in contentTypes {
                    let body = Array(Self.payload(endpoint).utf8)
                    var headers = endpoint.authenticatedHeaders(for: body)
                    headers[.contentType] = contentType
                    let answer = try await server.send(endpoint, body: body, headers: headers)
                    #expect(answer.status == .ok, "\(endpoint) with \(contentType ?? "no Content-Type"): \(answer.body)")
                }
            }
            let events = try await server.counts().events
            // Other formats are refused as what they are: not JSON.
            let others: [(String, [UInt8])] = [
                ("application/x-www-form-urlencoded", Array("userId=u1&event=Signed+Up".utf8)),
                ("multipart/form-data; boundary=x", Array("--x\r\nContent-Disposition: form-data; name=\"userId\"\r\n\r\nu1\r\n--x--\r\n".utf8)),
                ("application/xml", Array("<track><userId>u1</userId></track>".utf8)),
                ("application/json; charset=utf-16", [0xFF, 0xFE] + Array(#"{"userId":"u1","event":"E"}"#.utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] })),
            ]
            for endpoint in [IngestionEndpoint.track, .hubSpotWebhook, .editTags, .oneSignal] {
                for (contentType, body) in others {
                    var headers = endpoint.authenticatedHeaders(for: body)
                    headers[.contentType] = contentType
                    Self.expectRefused(
                        try await server.send(endpoint, body: body, headers: headers), code: "invalid_json", mentioning: ["not valid JSON"],
                        "\(endpoint) \(contentType)")
                }
            }
            #expect(try await server.counts().events == events)
        }
    }

    // MARK: - SQL-looking strings

    @Test func sqlLookingStringsAreStoredVerbatim() async throws {
        try await Server.with { server in
            let sql = "'); DROP TABLE events; --"
            var body = Array(#"{"batch": [{"type": "identify", "userId": "#.utf8) + FuzzJSON.string(sql).bytes
            body += Array(#", "messageId": "#.utf8) + FuzzJSON.string(sql + "1").bytes
            body += Array(#", "traits": {"#.utf8) + FuzzJSON.string(sql).bytes + Array(#": "x", "email": "a@example.com"}},"#.utf8)
            body += Array(#"{"type": "track", "anonymousId": "#.utf8) + FuzzJSON.string(sql).bytes
            body += Array(#", "event": "#.utf8) + FuzzJSON.string(sql).bytes + Array(#", "properties": {"q": "\" OR 1=1 --"}}]}"#.utf8)
            #expect(try await server.send(.batch, body: body).status == .ok)

            let hubSpot = #"[{"eventId": 1, "subscriptionId": 2, "portalId": 27356661, "occurredAt": 1700000000000, "subscriptionType": "contact.propertyChange", "objectId": 3, "propertyName": "firstname", "propertyValue": "'); DROP TABLE events; --"}]"#
            #expect(try await server.send(.hubSpotWebhook, body: Array(hubSpot.utf8)).status == .ok)
            let oneSignal = #"{"event_id": "'); DROP TABLE events; --", "kind": "message.push.sent", "external_id": "'); DROP TABLE events; --"}"#
            #expect(try await server.send(.oneSignal, body: Array(oneSignal.utf8)).status == .ok)

            let rows = try await server.database.client.query(
                """
                SELECT stream, idempotency_key, coalesce(payload->>'event', payload->>'propertyValue', ''),
                       coalesce(payload->'traits'->>\(sql), '')
                FROM events ORDER BY position
                """
            ).map { try $0.decode((String, String, String, String).self) }
            #expect(rows.count == 4)
            #expect(rows[0].0 == "user:" + sql)
            #expect(rows[0].1 == WriteKeys.id(of: Server.writeKey) + ":" + sql + "1")
            #expect(rows[0].3 == "x")
            #expect(rows[1].0 == "anonymous:" + sql)
            #expect(rows[1].2 == sql)
            #expect(rows[2].2 == sql)
            #expect(rows[3].0 == "user:" + sql)
            #expect(rows[3].1 == sql)
        }
    }

    // MARK: - Header injection

    /// CR and LF in header values never come back as response headers or log lines, and the server keeps answering.
    /// (`HTTPFields` cannot even hold them, so these requests are written to a socket byte by byte.)
    @Test func crAndLFInHeaderValuesReachNeitherResponsesNorLogs() async throws {
        let logs = CapturedLogs()
        try await Server.with(logger: logs.logger(label: "hostile")) { server in
            let port = try #require(server.client.port)
            let body = #"{"userId": "u1", "event": "E"}"#
            let key = Data("\(Server.writeKey):".utf8).base64EncodedString()
            let injectedKey = Data("\(Server.writeKey)\r\nX-Injected: basic:".utf8).base64EncodedString()
            let requests: [(String, String)] = [
                ("bare CR", "X-Request-ID: abc\rX-Injected: bare-cr\r\nAuthorization: Basic \(key)\r\n"),
                ("obs-fold", "X-Request-ID: abc\r\n X-Injected: folded\r\nAuthorization: Basic \(key)\r\n"),
                ("NUL", "X-Request-ID: abc\0X-Injected: nul\r\nAuthorization: Basic \(key)\r\n"),
                ("CR LF in the encoded write key", "Authorization: Basic \(injectedKey)\r\n"),
                ("CR LF in an unsupported Content-Encoding", "Authorization: Basic \(key)\r\nContent-Encoding: br%0d%0aX-Injected: enc\r\n"),
            ]
            for (name, headers) in requests {
                let request = "POST /v1/track HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\(headers)Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
                let response = try await Self.rawExchange(port: port, request: Array(request.utf8))
                // The parser may refuse the request (400) or just close the connection; it never answers a 5xx.
                let head = response.components(separatedBy: "\r\n\r\n").first ?? ""
                #expect(!head.lowercased().contains("x-injected"), "\(name): \(head)")
                #expect(response.isEmpty || head.hasPrefix("HTTP/1.1 "), "\(name): \(response)")
                #expect(!head.hasPrefix("HTTP/1.1 5"), "\(name): \(head)")
            }
            // Percent-encoded CR LF in the target stays encoded.
            let target = "POST /v1/track%0d%0aX-Injected:%201 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}"
            let response = try await Self.rawExchange(port: port, request: Array(target.utf8))
            #expect(!(response.components(separatedBy: "\r\n\r\n").first ?? "").lowercased().contains("x-injected"), "\(response)")
            try await server.expectStillAnswering()
        }
        for line in logs.all {
            #expect(!line.contains("\nX-Injected") && !line.contains("\rX-Injected"), "a log line carries an injected line: \(line)")
        }
        #expect(!logs.all.isEmpty)
    }

    /// Writes `request` to a new connection and reads until the server closes it (or 10 seconds pass).
    static func rawExchange(port: Int, request: [UInt8]) async throws -> String {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port) {
            channel in
            channel.eventLoop.makeCompletedFuture {
                try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
            }
        }
        return try await withThrowingTaskGroup(of: String.self) { group in
            group.addTask {
                try await channel.executeThenClose { inbound, outbound in
                    try await outbound.write(ByteBuffer(bytes: request))
                    var received: [UInt8] = []
                    do {
                        for try await chunk in inbound { received += chunk.readableBytesView }
                    } catch {
                        // A reset after the answer: keep what came.
                    }
                    return String(decoding: received, as: UTF8.self)
                }
            }
            group.addTask {
                try await Task.sleep(for: .seconds(10))
                throw CancellationError()
            }
            let first = try await group.next()!
            group.cancelAll()
            return first
        }
    }

    // MARK: - Replayed HubSpot signatures

    @Test func replayedHubSpotSignaturesAreRefusedUnlessTheyAreTheExactRequestWithinTheWindow() async throws {
        try await Server.with { server in
            let webhook = Array(Self.payload(.hubSpotWebhook).utf8)
            let signed = IngestionEndpoint.hubSpotWebhook.authenticatedHeaders(for: webhook)
            #expect(try await server.send(.hubSpotWebhook, body: webhook, headers: signed).status == .ok)

            // The same signature with another body, another URI, another method's signature, another timestamp.
            let otherBody = Array(Self.payload(.hubSpotWebhook).utf8)
            Self.expectRefused(try await server.send(.hubSpotWebhook, body: otherBody, headers: signed), status: 401, mentioning: ["does not match"], "other body")
            Self.expectRefused(
                try await server.send(path: "/webhooks/hubspot?replayed=1", body: webhook, headers: signed), status: 401,
                mentioning: ["does not match"], "other URI")
            let action = Array(Self.payload(.editTags).utf8)
            let actionHeaders = IngestionEndpoint.editTags.authenticatedHeaders(for: action)
            Self.expectRefused(
                try await server.send(.sendNotification, body: action, headers: actionHeaders), status: 401, mentioning: ["does not match"],
                "another action's URI")
            Self.expectRefused(
                try await server.send(.hubSpotWebhook, body: webhook, headers: Server.signedV3(webhook, path: "/webhooks/hubspot", method: "PUT")),
                status: 401, mentioning: ["does not match"], "a PUT's signature")
            var retimed = signed
            retimed[HTTPField.Name("X-HubSpot-Request-Timestamp")!] = String(Int64(Date().timeIntervalSince1970 * 1000) + 1)
            Self.expectRefused(try await server.send(.hubSpotWebhook, body: webhook, headers: retimed), status: 401, mentioning: ["does not match"], "other timestamp")
            // The exact request sent as another method reaches no handler.
            let asPut = try await server.send(path: "/webhooks/hubspot", method: .put, body: webhook, headers: signed)
            #expect(asPut.status.code >= 400 && asPut.status.code < 500, "\(asPut.status)")

            // The exact request, replayed after the 5-minute window (and one from the future).
            for offset in [-301.0, 301.0] {
                let stale = IngestionEndpoint.hubSpotWebhook.authenticatedHeaders(for: otherBody, at: Date().addingTimeInterval(offset))
                Self.expectRefused(try await server.send(.hubSpotWebhook, body: otherBody, headers: stale), status: 401, mentioning: ["5 minutes"], "\(offset) s")
            }
            var garbled = signed
            garbled[HTTPField.Name("X-HubSpot-Request-Timestamp")!] = "yesterday"
            Self.expectRefused(try await server.send(.hubSpotWebhook, body: webhook, headers: garbled), status: 401, mentioning: ["X-HubSpot-Request-Timestamp"])

            // The exact request within the window: answered 200 again, stored once (deduplicated on the event's key).
            #expect(try await server.send(.hubSpotWebhook, body: webhook, headers: signed).status == .ok)
            // v2 signatures carry no time, so a captured workflow action can be replayed whenever: it is stored once.
            let v2: HTTPFields = [
                HTTPField.Name("X-HubSpot-Signature")!: HubSpotSignature.v2(
                    secret: Server.clientSecret, method: "POST", uri: Server.publicURL + IngestionEndpoint.editTags.path, body: action),
                HTTPField.Name("X-HubSpot-Signature-Version")!: "v2",
            ]
            for _ in 0..<3 { #expect(try await server.send(.editTags, body: action, headers: v2).status == .ok) }
            try await Self.expectStored(events: 2, rejections: 0, on: server)
        }
    }

    // MARK: - Found by the fuzz tests

    /// Dates far outside what a timestamp can be: refused per message or per event, never a crash or a 5xx.
    @Test func timestampsOutOfRangeAreRefusedNotCrashing() async throws {
        try await Server.with { server in
            // Clock-skew correction with sentAt 9,999 years after timestamp lands before year 1.
            let skewed = #"{"batch": [{"type": "track", "userId": "u", "event": "E", "messageId": "skew", "timestamp": "0001-01-01T00:00:00Z", "sentAt": "9999-12-31T23:59:59Z"}, {"type": "track", "userId": "u", "event": "E", "messageId": "fine"}]}"#
            let answer = try await server.send(.batch, body: Array(skewed.utf8))
            #expect(answer.status == .ok, "\(answer.body)")
            #expect(answer.body.contains(#""index":0"#) && answer.body.contains("timestamp"), "\(answer.body)")
            Self.expectRefused(
                try await server.send(.track, body: Array(#"{"userId": "u", "event": "E", "timestamp": "9999-12-31T23:59:59Z", "sentAt": "0001-01-01T00:00:00Z"}"#.utf8)),
                code: "invalid_message", mentioning: ["timestamp"])
            // Before 1970, with milliseconds: stored as sent.
            let early = #"{"userId": "u", "event": "E", "messageId": "early", "timestamp": "1969-12-31T23:59:59.5Z"}"#
            #expect(try await server.send(.track, body: Array(early.utf8)).status == .ok)
            for occurredAt in ["1e300", "-1e300", "9223372036854775807", "-9223372036854775808", "\"nan\"", "\"inf\"", "\"1e400\"", "253402300800000"] {
                let delivery = #"[{"eventId": 1, "subscriptionId": 2, "occurredAt": \#(occurredAt), "subscriptionType": "contact.creation", "objectId": 3}]"#
                let answer = try await server.send(.hubSpotWebhook, body: Array(delivery.utf8))
                #expect(answer.status == .ok, "\(occurredAt): \(answer.body)")
                #expect(answer.body.contains("occurredAt"), "\(occurredAt): \(answer.body)")
            }
            for (index, timestamp) in ["1e300", "-1e300", "\"nan\"", "\"-inf\"", "1e15"].enumerated() {
                let event = #"{"event_id": "ev-\#(index)", "kind": "message.push.sent", "timestamp": \#(timestamp)}"#
                Self.expectRefused(try await server.send(.oneSignal, body: Array(event.utf8)), code: "invalid_event", mentioning: ["timestamp"], timestamp)
            }
            #expect(try await server.counts().events == 2)
            let stored = try await server.database.client.query("SELECT payload->>'timestamp' FROM events WHERE payload->>'messageId' = 'early'")
            #expect(try stored.first?.decode(String.self, at: 0) == "1969-12-31T23:59:59.500Z")
        }
    }

    /// Identifiers become index keys (stream, idempotency key); PostgreSQL's B-trees refuse keys over about 2.7 KB.
    @Test func overlongIdentifiersAreRefusedNamingTheLimit() async throws {
        try await Server.with { server in
            let long = (0..<3_000).map { _ in String("abcdefghijklmnopqrstuvwxyz0123456789".randomElement()!) }.joined()
            for field in ["userId", "anonymousId", "messageId", "groupId", "previousId"] {
                let body = #"{"batch": [{"type": "\#(field == "groupId" ? "group" : field == "previousId" ? "alias" : "track")", "userId": "u", "event": "E", "groupId": "g", "previousId": "p", "\#(field)": "\#(long)"}]}"#
                let answer = try await server.send(.batch, body: Array(body.utf8))
                #expect(answer.status == .ok, "\(field): \(answer.body)")
                #expect(answer.body.contains(field) && answer.body.contains("1024 bytes"), "\(field): \(answer.body)")
            }
            let webhook = #"[{"eventId": "\#(long)", "subscriptionId": 2, "portalId": 27356661, "occurredAt": 1700000000000, "subscriptionType": "contact.creation", "objectId": 3}]"#
            let webhookAnswer = try await server.send(.hubSpotWebhook, body: Array(webhook.utf8))
            #expect(webhookAnswer.status == .ok && webhookAnswer.body.contains("eventId"), "\(webhookAnswer.body)")
            let action = #"{"callbackId": "\#(long)", "origin": {"portalId": 27356661}, "object": {"objectId": 9}, "inputFields": {"content": "hi"}}"#
            Self.expectRefused(try await server.send(.sendNotification, body: Array(action.utf8)), code: "invalid_body", mentioning: ["callbackId"])
            let event = #"{"event_id": "e", "kind": "message.push.sent", "external_id": "\#(long)"}"#
            Self.expectRefused(try await server.send(.oneSignal, body: Array(event.utf8)), code: "invalid_event", mentioning: ["external_id"])
            #expect(try await server.counts().events == 0)
        }
    }
}
