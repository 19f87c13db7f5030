import App
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Ingestion
import Mapping
import NIOCore
import PQ
import Projections
import Testing
import TestSupport

@Suite("Several OneSignal apps: the configuration file, event streams matched to their app, workflow app names")
struct OneSignalAppsConfigurationTests {
    static let acme = "8250eaf6-1a58-489e-b136-7c74a864b434"
    static let beta = "3c1f9d2e-7a4b-4e8f-9b6a-2d5c8e1f0a7b"

    static func writeConfig(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("hubsignal-config-\(UUID()).yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static let file = """
        onesignal_apps:
          - name: acme
            app_id: \(acme)
            api_key: ${ACME_KEY}
            webhook_secret: ${ACME_STREAM}
          - name: beta
            app_id: \(beta.uppercased())
            api_key: literal-beta-key
            webhook_secret: beta-stream-secret
            tag_limit: 2
        """

    @Test("the file lists the apps, secrets from the environment; mistakes are named")
    func configurationFile() throws {
        let path = try Self.writeConfig(Self.file)
        let environment = ["DATABASE_URL": "postgresql://x", "HUBSIGNAL_CONFIG": path, "ACME_KEY": "os_v2_app_acme", "ACME_STREAM": "acme-stream"]
        let configuration = try AppConfiguration.fromEnvironment(environment)
        #expect(configuration.oneSignalApps.map(\.name) == ["acme", "beta"])
        #expect(configuration.oneSignalApps[0].apiKey == "os_v2_app_acme")
        #expect(configuration.oneSignalApps[0].webhookSecret == "acme-stream")
        #expect(configuration.oneSignalApps[1].appID == Self.beta)
        #expect(configuration.oneSignalApps[1].tagLimit == 2)
        #expect(!"\(configuration.oneSignalApps[0])".contains("os_v2_app_acme"), "descriptions never show keys")

        func problem(_ text: String, _ extra: [String: String] = [:]) -> String {
            do {
                let path = try Self.writeConfig(text)
                _ = try AppConfiguration.fromEnvironment(environment.merging(["HUBSIGNAL_CONFIG": path].merging(extra) { $1 }) { $1 })
                return "accepted"
            } catch {
                return "\(error)"
            }
        }
        #expect(problem(Self.file.replacingOccurrences(of: "${ACME_KEY}", with: "${MISSING_KEY}")).contains("MISSING_KEY, which is not set"))
        #expect(problem(Self.file.replacingOccurrences(of: "name: beta", with: "name: acme")).contains("used twice"))
        #expect(problem(Self.file.replacingOccurrences(of: "tag_limit: 2", with: "tag_limt: 2")).contains("unknown key 'tag_limt'"))
        #expect(problem(Self.file.replacingOccurrences(of: Self.acme, with: "acme-app")).contains("UUID"))
        #expect(problem(Self.file, ["ONESIGNAL_APP_ID": Self.acme, "ONESIGNAL_API_KEY": "k"]).contains("both HUBSIGNAL_CONFIG"))
        // The single-app variables are the one-app shorthand, named 'default'.
        let single = try AppConfiguration.fromEnvironment([
            "DATABASE_URL": "postgresql://x", "ONESIGNAL_APP_ID": Self.acme, "ONESIGNAL_API_KEY": "k", "ONESIGNAL_WEBHOOK_SECRET": "s",
        ])
        #expect(single.oneSignalApps.map(\.name) == ["default"])
        #expect(single.oneSignalApps.first?.webhookSecret == "s")
    }

    @Test("the file's environment section sets documented variables; the process environment wins")
    func fileEnvironment() throws {
        let path = try Self.writeConfig(
            """
            environment:
              HUBSIGNAL_PORT: 9090
              HUBSPOT_RATE_LIMIT: 190
              HUBSIGNAL_WRITE_KEYS: ${DEMO_KEYS}
            """)
        let configuration = try AppConfiguration.fromEnvironment([
            "DATABASE_URL": "postgresql://x", "HUBSIGNAL_CONFIG": path, "HUBSIGNAL_PORT": "7070", "DEMO_KEYS": "k1,k2",
        ])
        #expect(configuration.port == 7070)
        #expect(configuration.hubSpotRateLimit == 190)
        #expect(configuration.writeKeys == ["k1", "k2"])
        let bad = try Self.writeConfig("environment:\n  PATH: /tmp\n")
        #expect(throws: ConfigurationError.self) {
            try AppConfiguration.fromEnvironment(["DATABASE_URL": "postgresql://x", "HUBSIGNAL_CONFIG": bad])
        }
    }

    static func event(app: String, id: String = UUID().uuidString, externalID: String) -> String {
        #"{"event_id":"\#(id)","kind":"message.push.clicked","timestamp":1708559115,"app_id":"\#(app)","external_id":"\#(externalID)","message_id":"m-1"}"#
    }

    @Test("event-stream deliveries are matched to their app by app_id and need that app's secret; an unknown app is refused and recorded")
    func eventStreamsPerApp() async throws {
        try await TestPostgres.withDatabase { database in
            let path = try Self.writeConfig(Self.file)
            var configuration = try AppConfiguration.fromEnvironment([
                "DATABASE_URL": database.connectionString, "HUBSIGNAL_CONFIG": path, "ACME_KEY": "k", "ACME_STREAM": "acme-stream",
                "HUBSPOT_CLIENT_SECRET": "hubspot-secret",
            ])
            configuration.port = 0
            let application = HubSignalService.makeApplication(
                configuration: configuration, client: database.client, logger: TestPostgres.logger)
            try await application.test(.live) { client in
                func post(_ body: String, secret: String) async throws -> (HTTPResponse.Status, String) {
                    try await client.execute(
                        uri: "/webhooks/onesignal", method: .post, headers: [.authorization: "Bearer \(secret)", .contentType: "application/json"],
                        body: ByteBuffer(string: body)
                    ) { response in (response.status, String(buffer: response.body)) }
                }
                #expect(try await post(Self.event(app: Self.acme, externalID: "ada"), secret: "acme-stream").0 == .ok)
                #expect(try await post(Self.event(app: Self.beta, externalID: "bob"), secret: "beta-stream-secret").0 == .ok)
                // One app's secret does not open another app's stream.
                let crossed = try await post(Self.event(app: Self.beta, externalID: "bob"), secret: "acme-stream")
                #expect(crossed.0 == .unauthorized)
                #expect(crossed.1.contains("'beta'"))
                #expect(try await post(Self.event(app: Self.acme, externalID: "ada"), secret: "wrong").0 == .unauthorized)
                let unknown = try await post(Self.event(app: "11111111-2222-4333-8444-555555555555", externalID: "eve"), secret: "acme-stream")
                #expect(unknown.0 == .forbidden)
                #expect(unknown.1.contains("unknown_app"))
            }
            let stored = try await database.client.query("SELECT metadata->>'app', stream FROM events ORDER BY position")
                .map { try $0.decode((String, String).self) }
            #expect(stored.map(\.0) == ["acme", "beta"])
            #expect(stored.map(\.1) == ["user:ada", "user:bob"])
            let rejected = try await database.client.query("SELECT reason FROM rejections WHERE source = 'onesignal'")
            #expect(rejected.count == 1)

            // The read models attribute each event to its app by name, on the right contact.
            let mapping = try HubSignalService.loadMapping(configuration, logger: TestPostgres.logger)
            try await ProjectionHarness(database).project(mapping)
            let activity = try await database.client.query(
                "SELECT m.app, i.value FROM message_activity m JOIN identities i ON i.contact_id = m.contact_id AND i.kind = 'user_id' ORDER BY m.position")
                .map { try $0.decode((String, String?).self) }
            #expect(activity.map(\.0) == ["acme", "beta"])
            #expect(activity.map(\.1) == ["ada", "bob"])
        }
    }

    @Test("a workflow action naming an app that is not configured fails with the configured names")
    func workflowUnknownApp() async throws {
        try await TestPostgres.withDatabase { database in
            let path = try Self.writeConfig(Self.file)
            var configuration = try AppConfiguration.fromEnvironment([
                "DATABASE_URL": database.connectionString, "HUBSIGNAL_CONFIG": path, "ACME_KEY": "k", "ACME_STREAM": "s",
                "HUBSPOT_CLIENT_SECRET": "hubspot-secret", "HUBSIGNAL_PUBLIC_URL": "https://hubsignal.example.com",
                "HUBSPOT_PORTAL_ID": "27356661",
            ])
            configuration.port = 0
            let application = HubSignalService.makeApplication(
                configuration: configuration, client: database.client, logger: TestPostgres.logger)
            try await application.test(.live) { client in
                let path = "/hubspot/actions/send-notification"
                for (app, expected) in [("gamma", "FAIL_CONTINUE"), ("beta", "SUCCESS")] {
                    let body = #"{"callbackId":"ap-\#(app)","origin":{"portalId":27356661},"object":{"objectId":9,"objectType":"CONTACT"},"inputFields":{"content":"hi","app":"\#(app)"}}"#
                    let timestamp = String(Int64(Date().timeIntervalSince1970 * 1000))
                    let signature = HubSpotSignature.v3(
                        secret: "hubspot-secret", method: "POST", uri: "https://hubsignal.example.com" + path, body: Array(body.utf8),
                        timestamp: timestamp)
                    let headers: HTTPFields = [
                        .contentType: "application/json", HTTPField.Name("X-HubSpot-Signature-v3")!: signature,
                        HTTPField.Name("X-HubSpot-Request-Timestamp")!: timestamp,
                    ]
                    try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: body)) { response in
                        let text = String(buffer: response.body)
                        #expect(text.contains(expected), "\(app): \(text)")
                        if app == "gamma" { #expect(text.contains("acme, beta")) }
                    }
                }
            }
        }
    }
}
