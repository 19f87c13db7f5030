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
        return await ConfigurationCheck(configuration: configuration, logger: TestPostgres.logger).run().first { $0.subject == "hubspot timeline" }
    }

    @Test func aStaticTokenIsWarnedThatNotesAreWrittenInstead() async throws {
        let finding = try #require(try await Self.finding(["HUBSPOT_ACCESS_TOKEN": "pat-x", "HUBSPOT_BASE_URL": "http://127.0.0.1:9"]))
        #expect(finding.level == .warning)
        #expect(finding.message.contains("writes notes instead"), "\(finding.message)")
    }
}
