import App
import Foundation
import Testing

/// The configuration file docs/onesignal-sync.md shows ("Several OneSignal apps") is one `serve` accepts, with the
/// meaning the page gives it.
@Suite struct ConfigurationDocsTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardizedFileURL

    @Test func theSeveralAppsExampleConfiguresTheAppsItLists() throws {
        let page = try String(contentsOf: Self.root.appendingPathComponent("docs/onesignal-sync.md"), encoding: .utf8)
        let examples = page.components(separatedBy: "```yaml\n").dropFirst().map { $0.components(separatedBy: "```")[0] }
        let example = try #require(examples.first { $0.hasPrefix("onesignal_apps:") }, "docs/onesignal-sync.md shows no onesignal_apps file")

        // Every ${NAME} it takes from the environment, set to a value of its own.
        var environment = ["DATABASE_URL": "postgresql://docs"]
        for part in example.components(separatedBy: "${").dropFirst() {
            let name = String(part.prefix { $0 != "}" })
            environment[name] = "value-of-" + name
        }
        #expect(environment.count >= 5)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("hubsignal-docs-\(UUID()).yaml").path
        try example.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        environment["HUBSIGNAL_CONFIG"] = path

        let apps = try AppConfiguration.fromEnvironment(environment).oneSignalApps
        #expect(apps.map(\.name) == ["acme-ios", "acme-android"], "the first app is the default")
        #expect(apps[0].apiKey == "value-of-ACME_IOS_ONESIGNAL_API_KEY")
        #expect(apps[0].webhookSecret == "value-of-ACME_IOS_STREAM_SECRET")
        #expect(apps[0].tagLimit == 10)
        #expect(apps[1].tagLimit == nil, "without tag_limit an app takes the mapping's onesignal.tag_limit")
    }
}
