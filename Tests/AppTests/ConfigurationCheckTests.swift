import App
import Foundation
import HubSpotSandbox
import OneSignalSandbox
import Testing
import TestSupport

@Suite("hubsignal config check: every part of the configuration tried, problems named")
struct ConfigurationCheckTests {
    @Test("a working configuration is all ok; wrong credentials, a bad mapping and a missing database are problems")
    func findings() async throws {
        try await TestPostgres.withDatabase { database in
            let hubSpot = HubSpotSandbox(configuration: .init(accessToken: "pat-good"))
            try await hubSpot.start()
            let appID = "8250eaf6-1a58-489e-b136-7c74a864b434"
            let oneSignal = OneSignalSandbox(configuration: .init(appID: appID, apiKey: "os_v2_app_good"))
            _ = try await oneSignal.start()
            defer {
                Task {
                    await hubSpot.stop()
                    await oneSignal.stop()
                }
            }
            let migrations = TestPostgres.migrationsDirectory.path
            var environment = [
                "DATABASE_URL": database.connectionString, "HUBSIGNAL_MIGRATIONS_DIR": migrations, "HUBSIGNAL_WRITE_KEYS": "k1",
                "HUBSPOT_CLIENT_SECRET": "s", "HUBSPOT_ACCESS_TOKEN": "pat-good", "HUBSPOT_BASE_URL": hubSpot.baseURL,
                "HUBSIGNAL_PUBLIC_URL": "https://hubsignal.example.com", "HUBSPOT_PORTAL_ID": "12345678",
                "ONESIGNAL_APP_ID": appID, "ONESIGNAL_API_KEY": "os_v2_app_good", "ONESIGNAL_BASE_URL": oneSignal.baseURL!.absoluteString,
                "ONESIGNAL_WEBHOOK_SECRET": "w",
            ]
            func check(_ changes: [String: String] = [:]) async throws -> [ConfigurationCheck.Finding] {
                let configuration = try AppConfiguration.fromEnvironment(environment.merging(changes) { $1 }, requireDatabase: false)
                return await ConfigurationCheck(configuration: configuration, logger: TestPostgres.logger).run()
            }
            let good = try await check()
            #expect(good.allSatisfy { $0.level == .ok }, "\(good)")
            #expect(
                good.map(\.subject) == [
                    "database", "mapping", "segment api", "browser sources", "rate limit", "hubspot webhooks", "hubspot", "onesignal:default",
                ])

            // Browser keys: their origins (never the keys), `*` and a settings document without apiHost are warnings.
            let browser = try await check([
                "HUBSIGNAL_WRITE_KEYS": "k1,browser-secret-key", "HUBSIGNAL_CORS_ORIGINS": "browser-secret-key=https://app.example.com",
                "HUBSIGNAL_WRITE_KEY_RATE_LIMIT": "50/10",
            ])
            let sources = browser.filter { $0.subject == "browser sources" }
            #expect(sources.map(\.level) == [.ok])
            #expect(sources.first?.message == "1 browser key(s) for https://app.example.com")
            #expect(browser.first { $0.subject == "rate limit" }?.message.hasPrefix("50 request(s) per 10 s per write key") == true)
            #expect(!browser.description.contains("browser-secret-key"), "write keys are never shown")
            let anywhere = try await check([
                "HUBSIGNAL_WRITE_KEYS": "k1,k2", "HUBSIGNAL_CORS_ORIGINS": "k2=*", "HUBSIGNAL_PUBLIC_URL": "", "HUBSPOT_CLIENT_SECRET": "",
            ]).filter { $0.subject == "browser sources" }
            #expect(anywhere.map(\.level) == [.warning, .warning], "\(anywhere)")
            #expect(anywhere.last?.message.contains("HUBSIGNAL_PUBLIC_URL is unset") == true)

            let wrong = try await check(["HUBSPOT_ACCESS_TOKEN": "pat-wrong", "ONESIGNAL_API_KEY": "os_v2_app_wrong"])
            let problems = wrong.filter { $0.level == .problem }
            #expect(problems.map(\.subject) == ["hubspot", "onesignal:default"])
            #expect(problems.last?.message.contains("REST API key") == true)
            #expect(!wrong.description.contains("pat-wrong") && !wrong.description.contains("os_v2_app_wrong"), "secrets are never shown")

            // A client secret without the URL its signatures cover, or without the portal to accept: every HubSpot call
            // would be refused; without a secret HubSpot's calls are merely off.
            for unset in ["HUBSIGNAL_PUBLIC_URL", "HUBSPOT_PORTAL_ID"] {
                let incomplete = try await check([unset: ""]).first { $0.subject == "hubspot webhooks" }
                #expect(incomplete?.level == .problem, "\(unset)")
                #expect(incomplete?.message.contains("\(unset) is not set") == true, "\(String(describing: incomplete))")
            }
            let off = try await check(["HUBSPOT_CLIENT_SECRET": "", "HUBSIGNAL_PUBLIC_URL": ""]).first { $0.subject == "hubspot webhooks" }
            #expect(off?.level == .warning, "\(String(describing: off))")
            #expect(off?.message.contains("HUBSPOT_CLIENT_SECRET is not set") == true)

            let mappingPath = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID()).yaml").path
            try "onesignal:\n  tag_limit: 0\n".write(toFile: mappingPath, atomically: true, encoding: .utf8)
            let badMapping = try await check(["HUBSIGNAL_MAPPING": mappingPath])
            #expect(badMapping.first { $0.subject == "mapping" }?.level == .problem)

            environment["DATABASE_URL"] = "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2"
            let noDatabase = try await check(["HUBSIGNAL_WRITE_KEYS": ""])
            #expect(noDatabase.first?.level == .problem)
            #expect(noDatabase.first { $0.subject == "segment api" }?.level == .warning)
        }
    }
}
