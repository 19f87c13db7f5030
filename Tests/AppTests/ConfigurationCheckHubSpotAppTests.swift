import App
import Foundation
import HubSpotSandbox
import Testing
import TestSupport

/// What `hubsignal config check` says when HubSpot refuses the token of a new install: where to copy the token from,
/// or that the app must be installed again with the scopes `hubsignal hubspot app` asks for.
@Suite("hubsignal config check: HubSpot refusals point at the app")
struct ConfigurationCheckHubSpotAppTests {
    static func hubSpotFinding(token: String, sandbox: HubSpotSandbox) async throws -> ConfigurationCheck.Finding {
        let configuration = try AppConfiguration.fromEnvironment(
            ["HUBSPOT_ACCESS_TOKEN": token, "HUBSPOT_BASE_URL": sandbox.baseURL], requireDatabase: false)
        let findings = await ConfigurationCheck(configuration: configuration, logger: TestPostgres.logger).run()
        return try #require(findings.first { $0.subject == "hubspot" })
    }

    @Test func anUnknownTokenPointsAtTheAuthTab() async throws {
        let sandbox = HubSpotSandbox(configuration: .init(accessToken: "pat-good"))
        try await sandbox.start()
        defer { Task { await sandbox.stop() } }
        let finding = try await Self.hubSpotFinding(token: "pat-wrong", sandbox: sandbox)
        #expect(finding.level == .problem)
        #expect(finding.message.contains("Auth tab"), "\(finding.message)")
        #expect(!finding.message.contains("pat-wrong"))
    }

    @Test func aTokenWithoutTheScopesNamesTheRequiredOnes() async throws {
        // The token of an app installed without the schema scopes: HubSpot answers 403.
        let sandbox = HubSpotSandbox(configuration: .init(accessToken: "pat-good", scopes: ["crm.objects.contacts.write"]))
        try await sandbox.start()
        defer { Task { await sandbox.stop() } }
        let finding = try await Self.hubSpotFinding(token: "pat-good", sandbox: sandbox)
        #expect(finding.level == .problem)
        #expect(finding.message.contains("hubsignal hubspot app"), "\(finding.message)")
        #expect(finding.message.contains("crm.schemas.contacts.read"))

        let full = HubSpotSandbox(configuration: .init(accessToken: "pat-good"))
        try await full.start()
        defer { Task { await full.stop() } }
        let good = try await Self.hubSpotFinding(token: "pat-good", sandbox: full)
        #expect(good.level == .ok, "\(good.message)")
    }
}
