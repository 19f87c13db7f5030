import App
import Foundation
import HubSpotSandbox
import Testing
import TestSupport

/// What `hubsignal config check` says about `hubspot_timeline: { mode: timeline_event }`: a static-auth app cannot own
/// a template (notes are written instead); with OAuth, the template is looked up in the app with the developer key.
@Suite struct ConfigurationCheckTimelineTests {
    static let mapping = """
        hubspot_timeline:
          mode: timeline_event
          template_id: "1001298"
        """

    static func finding(_ environment: [String: String]) async throws -> ConfigurationCheck.Finding? {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("timeline-\(UUID()).yaml")
        try Self.mapping.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        var variables = environment
        variables["HUBSIGNAL_MAPPING"] = file.path
        let configuration = try AppConfiguration.fromEnvironment(variables, requireDatabase: false)
        return await ConfigurationCheck(configuration: configuration, logger: TestPostgres.logger, variables: variables).run()
            .first { $0.subject == "hubspot timeline" }
    }

    @Test func aStaticTokenIsWarnedThatNotesAreWrittenInstead() async throws {
        let finding = try #require(try await Self.finding(["HUBSPOT_ACCESS_TOKEN": "pat-x", "HUBSPOT_BASE_URL": "http://127.0.0.1:9"]))
        #expect(finding.level == .warning)
        #expect(finding.message.contains("writes notes instead"), "\(finding.message)")
    }

    /// An OAuth app's template is read from the app with the developer key: unchecked without the key, a problem when
    /// the app has no such template, fine once it does.
    @Test func withOAuthTheTemplateIsReadFromTheApp() async throws {
        let sandbox = HubSpotSandbox(configuration: .init(accessToken: "unused", developerAPIKey: "dev-key"))
        try await sandbox.start()
        defer { Task { await sandbox.stop() } }
        let oauth = [
            "HUBSPOT_CLIENT_ID": "client-1", "HUBSPOT_CLIENT_SECRET": "secret-1",
            "HUBSIGNAL_TOKEN_KEY": Data(repeating: 3, count: 32).base64EncodedString(),
            "HUBSIGNAL_PUBLIC_URL": "https://hubsignal.example.com", "HUBSPOT_BASE_URL": sandbox.baseURL,
        ]
        let unchecked = try #require(try await Self.finding(oauth))
        #expect(unchecked.level == .warning && unchecked.message.contains("not checked"), "\(unchecked.message)")

        let withKey = oauth.merging(["HUBSPOT_APP_ID": "4242", "HUBSPOT_DEVELOPER_API_KEY": "dev-key"]) { $1 }
        let missing = try #require(try await Self.finding(withKey))
        #expect(missing.level == .problem && missing.message.contains("has no event template 1001298"), "\(missing.message)")

        sandbox.defineTimelineTemplate(.init(id: "1001298", name: "OneSignal message", appID: "4242"))
        let found = try #require(try await Self.finding(withKey))
        #expect(found.level == .ok, "\(found.message)")
    }
}
