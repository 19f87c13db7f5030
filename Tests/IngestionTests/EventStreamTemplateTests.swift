import Domain
import Foundation
import Ingestion
import Testing

/// The OneSignal Event Stream body template users paste into OneSignal's dashboard (deploy/onesignal).
@Suite struct EventStreamTemplateTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func template() throws -> String {
        try String(contentsOf: root.appendingPathComponent("deploy/onesignal/event-stream-body.liquid"), encoding: .utf8)
    }

    @Test("rendered as OneSignal renders it, the shipped template is an event HubSignal accepts, with every field")
    func renderedTemplateIsAccepted() throws {
        let values = [
            "event.id": "a1b2c3d4-e5f6-7890-abcd-ef1234567890", "event.kind": "message.push.clicked", "event.timestamp": "1708559115",
            "event.datetime": "2024-02-21T23:45:15.228Z", "event.app_id": "app-1", "event.external_id": "user_12345",
            "event.onesignal_id": "c3d4", "event.subscription_id": "b2c3", "event.subscription_device_type": "iOS",
            "event.data.failure_reason": "", "message.id": "f3c9", "message.name": "promo", "message.template_id": "",
            "message.title.en": "Flash Sale", "message.url": "https://example.com/sale",
        ]
        var body = try Self.template()
        let placeholder = try Regex(#"\{\{ ([a-z_.]+) \}\}"#)
        var missing: [String] = []
        for match in body.matches(of: placeholder).reversed() {
            let name = String(match.output[1].substring ?? "")
            guard let value = values[name] else {
                missing.append(name)
                continue
            }
            body.replaceSubrange(match.range, with: value)
        }
        #expect(missing.isEmpty, "placeholders without a sample value: \(missing)")
        let event = try OneSignalEventParser.parse(try JSONValue.parse(Array(body.utf8)), receivedAt: Date())
        #expect(event.type.rawValue == "onesignal.message.push.clicked")
        #expect(event.idempotencyKey == "a1b2c3d4-e5f6-7890-abcd-ef1234567890")
        #expect(event.stream == "user:user_12345")
        #expect(event.occurredAt == Date(timeIntervalSince1970: 1_708_559_115.228))
    }

    @Test("the HTTP API docs show the shipped template")
    func httpAPIDocsShowTheTemplate() throws {
        let docs = try String(contentsOf: Self.root.appendingPathComponent("docs/http-api.md"), encoding: .utf8)
        #expect(docs.contains(try Self.template().trimmingCharacters(in: .whitespacesAndNewlines)))
    }
}
