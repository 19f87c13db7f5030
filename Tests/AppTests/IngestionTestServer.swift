import App
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Ingestion
import Logging
import NIOCore
import PQ
import Testing
import TestSupport

/// Every inbound endpoint of HubSignal, with the authentication that gets a request past the gate to the parsers.
enum IngestionEndpoint: String, CaseIterable, Sendable, CustomStringConvertible {
    case identify, track, page, screen, group, alias, batch, `import`
    case hubSpotWebhook, sendNotification, editTags
    case oneSignal

    static let segment: [IngestionEndpoint] = [.identify, .track, .page, .screen, .group, .alias, .batch, .import]
    static let segmentSingles: [IngestionEndpoint] = [.identify, .track, .page, .screen, .group, .alias]
    static let hubSpot: [IngestionEndpoint] = [.hubSpotWebhook, .sendNotification, .editTags]

    var path: String {
        switch self {
        case .identify, .track, .page, .screen, .group, .alias, .batch, .import: return "/v1/\(rawValue)"
        case .hubSpotWebhook: return "/webhooks/hubspot"
        case .sendNotification: return "/hubspot/actions/send-notification"
        case .editTags: return "/hubspot/actions/edit-tags"
        case .oneSignal: return "/webhooks/onesignal"
        }
    }

    var description: String { path }

    var isSegment: Bool { Self.segment.contains(self) }
    var isSegmentBatch: Bool { self == .batch || self == .import }
    var isWorkflowAction: Bool { self == .sendNotification || self == .editTags }

    /// The headers of a correctly authenticated request carrying `body` (HubSpot: a v3 signature over these bytes).
    func authenticatedHeaders(for body: [UInt8], at date: Date = Date()) -> HTTPFields {
        switch self {
        case .identify, .track, .page, .screen, .group, .alias, .batch, .import:
            return IngestionTestServer.basic(IngestionTestServer.writeKey)
        case .hubSpotWebhook, .sendNotification, .editTags:
            return IngestionTestServer.signedV3(body, path: path, at: date)
        case .oneSignal:
            return [.authorization: "Bearer \(IngestionTestServer.oneSignalSecret)", .contentType: "application/json"]
        }
    }
}

/// A live HubSignal server (real HTTP, real freshly migrated PostgreSQL) with every inbound secret configured.
struct IngestionTestServer: Sendable {
    static let writeKey = "fuzz-write-key"
    static let clientSecret = "hubspot-client-secret"
    static let publicURL = "https://hubsignal.example.com"
    static let oneSignalSecret = "onesignal-stream-secret"
    /// The HubSpot account whose requests the server accepts; the payloads' `portalId` / `origin.portalId`.
    static let portalID = "27356661"

    let client: any TestClientProtocol
    let database: TestDatabase

    /// Runs `body` against a fresh server and database. `logger` receives the server's logs; `configure` changes the
    /// configuration (timeouts, limits) before the server starts.
    static func with(
        logger: Logger = TestPostgres.logger, configure: @escaping @Sendable (inout AppConfiguration) -> Void = { _ in },
        _ body: @escaping @Sendable (IngestionTestServer) async throws -> Void
    ) async throws {
        try await TestPostgres.withDatabase { database in
            var configuration = AppConfiguration(databaseURL: database.connectionString)
            configuration.writeKeys = [writeKey]
            configuration.hubSpotClientSecret = clientSecret
            configuration.publicURL = publicURL
            configuration.hubSpotPortalID = portalID
            configuration.oneSignalWebhookSecret = oneSignalSecret
            configuration.port = 0
            configure(&configuration)
            let application = HubSignalService.makeApplication(
                configuration: configuration, client: database.client, logger: logger)
            try await application.test(.live) { client in
                try await body(IngestionTestServer(client: client, database: database))
            }
        }
    }

    static func basic(_ key: String) -> HTTPFields {
        [.authorization: "Basic " + Data((key + ":").utf8).base64EncodedString(), .contentType: "application/json"]
    }

    static func signedV3(_ body: [UInt8], path: String, at date: Date = Date(), method: String = "POST") -> HTTPFields {
        let timestamp = String(Int64(date.timeIntervalSince1970 * 1000))
        let signature = HubSpotSignature.v3(secret: clientSecret, method: method, uri: publicURL + path, body: body, timestamp: timestamp)
        return [
            .contentType: "application/json", HTTPField.Name("X-HubSpot-Signature-v3")!: signature,
            HTTPField.Name("X-HubSpot-Request-Timestamp")!: timestamp,
        ]
    }

    /// An answer: status, headers and body text.
    struct Answer: Sendable {
        var status: HTTPResponse.Status
        var headers: HTTPFields
        var body: String

        /// The body as a JSON object (`nil` when it is not one).
        var json: [String: Any]? {
            (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]
        }

        /// `error.code` and `error.message` of an error body.
        var error: (code: String, message: String)? {
            guard let json, json["success"] as? Bool == false, let error = json["error"] as? [String: Any],
                let code = error["code"] as? String, let message = error["message"] as? String
            else { return nil }
            return (code, message)
        }
    }

    /// Sends `body` to `endpoint`, authenticated unless `headers` are given.
    func send(_ endpoint: IngestionEndpoint, body: [UInt8], headers: HTTPFields? = nil) async throws -> Answer {
        try await send(path: endpoint.path, body: body, headers: headers ?? endpoint.authenticatedHeaders(for: body))
    }

    func send(path: String, method: HTTPRequest.Method = .post, body: [UInt8], headers: HTTPFields) async throws -> Answer {
        try await client.execute(uri: path, method: method, headers: headers, body: ByteBuffer(bytes: body)) { response in
            Answer(status: response.status, headers: response.headers, body: String(decoding: response.body.readableBytesView, as: UTF8.self))
        }
    }

    /// Rows in `events` and in `rejections`.
    func counts() async throws -> (events: Int, rejections: Int) {
        try await database.client.query("SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM rejections)")[0].decode((Int, Int).self)
    }

    /// How many events of `source` have each of `keys` as their idempotency key. For `segment`, `keys` are `messageId`s
    /// sent with `writeKey` (stored as `<write key id>:<messageId>`).
    func storedCounts(source: String, keys: [String]) async throws -> [String: Int] {
        guard !keys.isEmpty else { return [:] }
        let scope = source == "segment" ? WriteKeys.id(of: Self.writeKey) + ":" : ""
        let stored = keys.map { scope + $0 }
        let rows = try await database.client.query(
            "SELECT idempotency_key, count(*) FROM events WHERE source = \(source) AND idempotency_key = ANY(\(stored)::text[]) GROUP BY 1")
        var counts: [String: Int] = [:]
        for row in rows {
            let (key, count) = try row.decode((String, Int).self)
            counts[String(key.dropFirst(scope.count))] = count
        }
        return counts
    }

    /// Checks that the server still answers: `/healthz` and a valid event on every kind of endpoint.
    func expectStillAnswering(sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let health = try await send(path: "/healthz", method: .get, body: [], headers: [:])
        #expect(health.status == .ok, sourceLocation: sourceLocation)
        let id = UUID().uuidString
        let track = Array(#"{"userId": "still-\#(id)", "event": "Still Answering", "messageId": "still-\#(id)"}"#.utf8)
        let answer = try await send(.track, body: track)
        #expect(answer.status == .ok, "\(answer.body)", sourceLocation: sourceLocation)
    }
}
