import App
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Ingestion
import NIOCore
import PQ
import Testing
import TestSupport

/// HubSpot webhooks and workflow actions, and OneSignal event streams, over real HTTP against a real PostgreSQL.
@Suite struct WebhookAPITests {
    static let clientSecret = "hubspot-client-secret"
    static let publicURL = "https://hubsignal.example.com"
    static let oneSignalSecret = "onesignal-stream-secret"
    /// The HubSpot account the server accepts requests from (`HUBSPOT_PORTAL_ID`).
    static let portalID = "27356661"

    /// A live server with every inbound secret; `adjust` changes its configuration first.
    func withServer(
        _ adjust: @Sendable (inout AppConfiguration) -> Void = { _ in },
        _ body: @escaping @Sendable (any TestClientProtocol, TestDatabase) async throws -> Void
    ) async throws {
        try await TestPostgres.withDatabase { database in
            var configuration = AppConfiguration(databaseURL: database.connectionString)
            configuration.hubSpotClientSecret = Self.clientSecret
            configuration.publicURL = Self.publicURL
            configuration.hubSpotPortalID = Self.portalID
            configuration.oneSignalWebhookSecret = Self.oneSignalSecret
            configuration.port = 0
            adjust(&configuration)
            let application = HubSignalService.makeApplication(
                configuration: configuration, client: database.client, logger: TestPostgres.logger)
            try await application.test(.live) { client in try await body(client, database) }
        }
    }

    static func signedV3(_ body: String, path: String, at date: Date = Date(), secret: String = clientSecret) -> HTTPFields {
        let timestamp = String(Int64(date.timeIntervalSince1970 * 1000))
        let signature = HubSpotSignature.v3(
            secret: secret, method: "POST", uri: publicURL + path, body: Array(body.utf8), timestamp: timestamp)
        return [
            .contentType: "application/json", HTTPField.Name("X-HubSpot-Signature-v3")!: signature,
            HTTPField.Name("X-HubSpot-Request-Timestamp")!: timestamp,
        ]
    }

    static func types(_ database: TestDatabase) async throws -> [String] {
        try await database.client.query("SELECT type FROM events ORDER BY position").map { try $0.decode(String.self, at: 0) }
    }

    static let delivery = #"""
        [{"eventId":3418880613,"subscriptionId":1859972,"portalId":27356661,"appId":1109808,"occurredAt":1663842379678,
          "subscriptionType":"contact.propertyChange","attemptNumber":0,"objectId":512,"propertyName":"email",
          "propertyValue":"ada@example.com","changeSource":"CRM_UI","sourceId":"userId:45678"},
         {"eventId":3418880614,"subscriptionId":1859972,"portalId":27356661,"occurredAt":1663842379700,
          "subscriptionType":"contact.deletion","objectId":513}]
        """#

    @Test func signedWebhookDeliveriesAreStoredOnceEach() async throws {
        try await withServer { client, database in
            let headers = Self.signedV3(Self.delivery, path: "/webhooks/hubspot")
            for _ in 0..<2 {  // HubSpot retries: the second delivery stores nothing new
                try await client.execute(uri: "/webhooks/hubspot", method: .post, headers: headers, body: ByteBuffer(string: Self.delivery)) {
                    response in
                    #expect(response.status == .ok)
                }
            }
            #expect(try await Self.types(database) == ["hubspot.webhook.contact.propertyChange", "hubspot.webhook.contact.deletion"])
            let row = try await database.client.query("SELECT stream, source, payload->>'propertyValue', metadata->>'signatureVersion' FROM events ORDER BY position")[0]
            let (stream, source, value, version) = try row.decode((String, String, String, String).self)
            #expect(stream == "hubspot-contact:512")
            #expect(source == "hubspot")
            #expect(value == "ada@example.com")
            #expect(version == "v3")
        }
    }

    @Test func badStaleAndMissingSignaturesAreRefused() async throws {
        try await withServer { client, database in
            let body = ByteBuffer(string: Self.delivery)
            let cases: [(HTTPFields, String)] = [
                (Self.signedV3(Self.delivery, path: "/webhooks/hubspot", secret: "wrong-secret"), "does not match"),
                (Self.signedV3(Self.delivery, path: "/webhooks/hubspot", at: Date().addingTimeInterval(-400)), "5 minutes"),
                (Self.signedV3(Self.delivery, path: "/webhooks/other"), "does not match"),
                ([.contentType: "application/json"], "X-HubSpot-Signature-v3"),
                ([HTTPField.Name("X-HubSpot-Signature")!: HubSpotSignature.v1(secret: Self.clientSecret, body: Array(Self.delivery.utf8)),
                  HTTPField.Name("X-HubSpot-Signature-Version")!: "v1"], "X-HubSpot-Signature-v3"),
            ]
            for (headers, reason) in cases {
                try await client.execute(uri: "/webhooks/hubspot", method: .post, headers: headers, body: body) { response in
                    #expect(response.status == .unauthorized)
                    #expect(String(buffer: response.body).contains(reason), "\(String(buffer: response.body))")
                }
            }
            // A signed body that was tampered with afterwards.
            let tampered = Self.delivery.replacingOccurrences(of: "ada@example.com", with: "eve@example.com")
            try await client.execute(
                uri: "/webhooks/hubspot", method: .post, headers: Self.signedV3(Self.delivery, path: "/webhooks/hubspot"),
                body: ByteBuffer(string: tampered)
            ) { response in
                #expect(response.status == .unauthorized)
            }
            #expect(try await Self.types(database).isEmpty)
        }
    }

    @Test func malformedDeliveriesAreRefusedAndBadEventsRecorded() async throws {
        try await withServer { client, database in
            let notArray = #"{"eventId": 1}"#
            try await client.execute(
                uri: "/webhooks/hubspot", method: .post, headers: Self.signedV3(notArray, path: "/webhooks/hubspot"), body: ByteBuffer(string: notArray)
            ) { response in
                #expect(response.status == .badRequest)
            }
            let mixed = #"[{"eventId":1,"subscriptionId":2,"portalId":27356661,"subscriptionType":"company.creation","objectId":7,"occurredAt":1700000000000},{"objectId":8}]"#
            try await client.execute(
                uri: "/webhooks/hubspot", method: .post, headers: Self.signedV3(mixed, path: "/webhooks/hubspot"), body: ByteBuffer(string: mixed)
            ) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("\"index\":1"))
            }
            #expect(try await Self.types(database) == ["hubspot.webhook.company.creation"])
            let reason = try await database.client.query("SELECT source, reason FROM rejections")[0].decode((String, String).self)
            #expect(reason.0 == "hubspot")
            #expect(reason.1.contains("eventId"))
        }
    }

    static let action = #"""
        {"callbackId":"ap-47355542-1589400750477-3-0",
         "origin":{"portalId":27356661,"actionDefinitionId":201903771,"actionDefinitionVersion":4},
         "context":{"workflowId":1640937852,"actionId":3,"source":"WORKFLOWS"},
         "object":{"objectId":108456792064,"objectType":"CONTACT"},
         "fields":{"content":"test message"},"inputFields":{"content":"test message"}}
        """#

    @Test func workflowActionsAcceptV2AndV3SignaturesAndAnswerHubSpotsShape() async throws {
        try await withServer { client, database in
            let path = "/hubspot/actions/send-notification"
            let v2: HTTPFields = [
                .contentType: "application/json",
                HTTPField.Name("X-HubSpot-Signature")!: HubSpotSignature.v2(
                    secret: Self.clientSecret, method: "POST", uri: Self.publicURL + path, body: Array(Self.action.utf8)),
                HTTPField.Name("X-HubSpot-Signature-Version")!: "v2",
            ]
            for headers in [v2, Self.signedV3(Self.action, path: path)] {
                try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: Self.action)) { response in
                    #expect(response.status == .ok)
                    #expect(String(buffer: response.body) == #"{"outputFields":{"hs_execution_state":"SUCCESS"}}"#)
                }
            }
            #expect(try await Self.types(database) == ["hubspot.action.send_notification"])

            let tags = #"{"callbackId":"ap-2","origin":{"portalId":27356661},"object":{"objectId":9,"objectType":"CONTACT"},"inputFields":{"tags":"{\"vip\":\"1\"}"}}"#
            let tagsPath = "/hubspot/actions/edit-tags"
            try await client.execute(uri: tagsPath, method: .post, headers: Self.signedV3(tags, path: tagsPath), body: ByteBuffer(string: tags)) {
                response in
                #expect(response.status == .ok)
            }
            // Wrong inputs: the workflow goes on with the reason (FAIL_CONTINUE), nothing but a rejection is stored.
            let badTags = #"{"callbackId":"ap-3","origin":{"portalId":27356661},"object":{"objectId":9,"objectType":"CONTACT"},"inputFields":{"tags":"{vip: 1}"}}"#
            try await client.execute(
                uri: tagsPath, method: .post, headers: Self.signedV3(badTags, path: tagsPath), body: ByteBuffer(string: badTags)
            ) { response in
                #expect(response.status == .ok)
                let answer = try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: [String: String]]
                #expect(answer?["outputFields"]?["hs_execution_state"] == "FAIL_CONTINUE")
                #expect(answer?["outputFields"]?["error_message"]?.contains("not valid JSON") == true)
            }
            let rejected = try await database.client.query("SELECT reason FROM rejections WHERE source = 'hubspot'")
            #expect(rejected.count == 1)
            let noCallback = #"{"origin":{"portalId":27356661},"object":{"objectId":9},"inputFields":{"content":"hi"}}"#
            try await client.execute(uri: path, method: .post, headers: Self.signedV3(noCallback, path: path), body: ByteBuffer(string: noCallback)) {
                response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("callbackId"))
            }
            let badV2: HTTPFields = [
                HTTPField.Name("X-HubSpot-Signature")!: String(repeating: "0", count: 64),
                HTTPField.Name("X-HubSpot-Signature-Version")!: "v2",
            ]
            try await client.execute(uri: path, method: .post, headers: badV2, body: ByteBuffer(string: Self.action)) { response in
                #expect(response.status == .unauthorized)
            }
            #expect(try await Self.types(database) == ["hubspot.action.send_notification", "hubspot.action.edit_tags"])
        }
    }

    // MARK: - Foreign portals (a public app's secret signs every installing portal's requests)

    static func rejections(_ database: TestDatabase) async throws -> [(endpoint: String, reason: String)] {
        try await database.client.query("SELECT endpoint, reason FROM rejections WHERE source = 'hubspot' ORDER BY id")
            .map { try $0.decode((String, String).self) }
    }

    @Test func signedRequestsOfAnotherPortalAreRefusedAndRecorded() async throws {
        try await withServer { client, database in
            func send(_ body: String, to path: String) async throws -> (HTTPResponse.Status, String) {
                try await client.execute(uri: path, method: .post, headers: Self.signedV3(body, path: path), body: ByteBuffer(string: body)) {
                    ($0.status, String(buffer: $0.body))
                }
            }
            // Another portal's workflow actions: a push with its own text to one of our users, a tag edit.
            let push = #"{"callbackId":"ap-666-1-3-0","origin":{"portalId":666},"object":{"objectId":9,"objectType":"CONTACT"},"inputFields":{"content":"pay here","external_id":"ada"}}"#
            let tags = #"{"callbackId":"ap-666-2-3-0","origin":{"portalId":"666"},"object":{"objectId":9},"inputFields":{"tags":"{\"vip\":null}"}}"#
            let unnamed = #"{"callbackId":"ap-x","object":{"objectId":9},"inputFields":{"content":"hi"}}"#
            for (body, path, mention) in [
                (push, "/hubspot/actions/send-notification", "portal 666"), (tags, "/hubspot/actions/edit-tags", "portal 666"),
                (unnamed, "/hubspot/actions/send-notification", "names no HubSpot portal"),
            ] {
                let (status, text) = try await send(body, to: path)
                #expect(status == .forbidden, "\(text)")
                #expect(text.contains("foreign_portal") && text.contains(mention), "\(text)")
                #expect(!text.contains(Self.portalID), "a refusal names the configured portal: \(text)")
            }
            // Another portal's privacy deletion would erase one of our people: refused, the whole delivery.
            let erase = #"[{"eventId":70,"subscriptionId":5,"portalId":666,"occurredAt":1700000000000,"subscriptionType":"contact.privacyDeletion","objectId":512}]"#
            let (status, text) = try await send(erase, to: "/webhooks/hubspot")
            #expect(status == .forbidden && text.contains("portal 666"), "\(text)")
            #expect(try await Self.types(database).isEmpty)
            let recorded = try await Self.rejections(database)
            #expect(recorded.map(\.endpoint) == [
                "/hubspot/actions/send-notification", "/hubspot/actions/edit-tags", "/hubspot/actions/send-notification", "/webhooks/hubspot",
            ])
            #expect(recorded.allSatisfy { $0.reason.contains("portal") })

            // A delivery mixing portals: our portal's events are stored, the other's refused one by one and recorded.
            let mixed = #"[{"eventId":71,"subscriptionId":5,"portalId":666,"occurredAt":1700000000000,"subscriptionType":"contact.privacyDeletion","objectId":512},{"eventId":72,"subscriptionId":5,"portalId":27356661,"occurredAt":1700000000000,"subscriptionType":"contact.creation","objectId":513},{"eventId":73,"subscriptionId":5,"occurredAt":1700000000000,"subscriptionType":"contact.deletion","objectId":514}]"#
            let (mixedStatus, mixedText) = try await send(mixed, to: "/webhooks/hubspot")
            #expect(mixedStatus == .ok, "\(mixedText)")
            #expect(mixedText.contains(#""index":0"#) && mixedText.contains(#""index":2"#) && !mixedText.contains(#""index":1"#), "\(mixedText)")
            #expect(try await Self.types(database) == ["hubspot.webhook.contact.creation"])
            #expect(try await Self.rejections(database).count == 6)
        }
    }

    @Test func withoutAPortalIDEverySignedHubSpotRequestIsRefused() async throws {
        try await withServer({ $0.hubSpotPortalID = nil }) { client, database in
            for (body, path) in [(Self.delivery, "/webhooks/hubspot"), (Self.action, "/hubspot/actions/send-notification")] {
                try await client.execute(uri: path, method: .post, headers: Self.signedV3(body, path: path), body: ByteBuffer(string: body)) {
                    response in
                    #expect(response.status == .forbidden)
                    #expect(String(buffer: response.body).contains("HUBSPOT_PORTAL_ID is not configured"))
                }
            }
            #expect(try await Self.types(database).isEmpty)
            #expect(try await Self.rejections(database).count == 3)  // the delivery's two events and the action
        }
    }

    // MARK: - The signed URI

    @Test func withoutAPublicURLNoSignatureIsAcceptedWhateverTheForwardedHeadersSay() async throws {
        try await withServer({ $0.publicURL = nil }) { client, database in
            let path = "/webhooks/hubspot"
            // Signed by HubSpot for another deployment's URL (or captured there), replayed here with forwarded headers
            // naming that URL; and signed for this server's own Host.
            let attacker = "https://other.example.net"
            let timestamp = String(Int64(Date().timeIntervalSince1970 * 1000))
            var forwarded = Self.signedV3(Self.delivery, path: path)
            forwarded[HTTPField.Name("X-HubSpot-Signature-v3")!] = HubSpotSignature.v3(
                secret: Self.clientSecret, method: "POST", uri: attacker + path, body: Array(Self.delivery.utf8), timestamp: timestamp)
            forwarded[HTTPField.Name("X-HubSpot-Request-Timestamp")!] = timestamp
            forwarded[HTTPField.Name("X-Forwarded-Host")!] = "other.example.net"
            forwarded[HTTPField.Name("X-Forwarded-Proto")!] = "https"
            var ownHost = forwarded
            ownHost[HTTPField.Name("X-HubSpot-Signature-v3")!] = HubSpotSignature.v3(
                secret: Self.clientSecret, method: "POST", uri: "http://localhost" + path, body: Array(Self.delivery.utf8), timestamp: timestamp)
            ownHost[HTTPField.Name("X-Forwarded-Host")!] = nil
            ownHost[HTTPField.Name("X-Forwarded-Proto")!] = nil
            for headers in [forwarded, ownHost] {
                try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: Self.delivery)) { response in
                    #expect(response.status == .unauthorized)
                    #expect(String(buffer: response.body).contains("HUBSIGNAL_PUBLIC_URL"))
                }
            }
            #expect(try await Self.types(database).isEmpty)
        }
        // With it, forwarded headers change nothing: only a signature over HUBSIGNAL_PUBLIC_URL passes.
        try await withServer { client, database in
            let path = "/webhooks/hubspot"
            let timestamp = String(Int64(Date().timeIntervalSince1970 * 1000))
            var headers = Self.signedV3(Self.delivery, path: path)
            headers[HTTPField.Name("X-HubSpot-Signature-v3")!] = HubSpotSignature.v3(
                secret: Self.clientSecret, method: "POST", uri: "https://other.example.net" + path, body: Array(Self.delivery.utf8),
                timestamp: timestamp)
            headers[HTTPField.Name("X-HubSpot-Request-Timestamp")!] = timestamp
            headers[HTTPField.Name("X-Forwarded-Host")!] = "other.example.net"
            try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: Self.delivery)) { response in
                #expect(response.status == .unauthorized)
            }
            #expect(try await Self.types(database).isEmpty)
        }
    }

    static let clicked = #"""
        {"event_id":"a1b2c3d4-e5f6-7890-abcd-ef1234567890","kind":"message.push.clicked","timestamp":1708559115,
         "datetime":"2024-02-21T23:45:15.228Z","app_id":"app-1","external_id":"user_12345",
         "onesignal_id":"c3d4e5f6-a7b8-9012-cdef-123456789012","subscription_id":"b2c3","device_type":"iOS","failure_reason":"",
         "message_id":"f3c9cd09-10d7-4f59-b9bc-66e16607f1d5","message_name":"weekly-promo-push","title":"Flash Sale","url":"https://example.com/sale"}
        """#

    @Test func oneSignalEventsNeedTheSecretAndAreStoredOnce() async throws {
        try await withServer { client, database in
            let good: HTTPFields = [.authorization: "Bearer \(Self.oneSignalSecret)", .contentType: "application/json"]
            for _ in 0..<2 {
                try await client.execute(uri: "/webhooks/onesignal", method: .post, headers: good, body: ByteBuffer(string: Self.clicked)) {
                    response in
                    #expect(response.status == .ok)
                }
            }
            for headers: HTTPFields in [[.authorization: "Bearer wrong"], [:], [.authorization: Self.oneSignalSecret]] {
                try await client.execute(uri: "/webhooks/onesignal", method: .post, headers: headers, body: ByteBuffer(string: Self.clicked)) {
                    response in
                    #expect(response.status == .unauthorized)
                }
            }
            try await client.execute(uri: "/webhooks/onesignal", method: .post, headers: good, body: ByteBuffer(string: #"{"kind":"message.push.sent"}"#)) {
                response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("event_id"))
            }
            #expect(try await Self.types(database) == ["onesignal.message.push.clicked"])
            let stream = try await database.client.query("SELECT stream FROM events")[0].decode(String.self, at: 0)
            #expect(stream == "user:user_12345")
        }
    }

    @Test func withoutSecretsEverythingIsRefused() async throws {
        try await TestPostgres.withDatabase { database in
            var configuration = AppConfiguration(databaseURL: database.connectionString)
            configuration.port = 0
            let application = HubSignalService.makeApplication(
                configuration: configuration, client: database.client, logger: TestPostgres.logger)
            try await application.test(.live) { client in
                for path in ["/webhooks/hubspot", "/hubspot/actions/edit-tags", "/webhooks/onesignal", "/v1/track"] {
                    try await client.execute(
                        uri: path, method: .post, headers: [.authorization: "Bearer anything"], body: ByteBuffer(string: "{}")
                    ) { response in
                        #expect(response.status == .unauthorized, "\(path)")
                    }
                }
            }
        }
    }
}
