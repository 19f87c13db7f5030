import Foundation
import Hummingbird
import Ingestion
import OneSignalSandbox
import SandboxKit
import Testing

/// A small HTTP server standing in for HubSignal's `/webhooks/onesignal`, recording what arrives.
final class EventReceiver: Sendable {
    let log = RequestLog()
    let faults = FaultPlan()
    private let server: SandboxServer

    init() {
        let router = Router(context: SandboxRequestContext.self)
        router.add(middleware: RequestLogMiddleware(log: log))
        router.add(middleware: FaultMiddleware(plan: faults))
        router.post("webhooks/onesignal") { _, _ in Response(status: .ok) }
        server = SandboxServer(router: router)
    }

    /// Starts and returns the webhook URL.
    func start() async throws -> URL {
        let port = try await server.start()
        return URL(string: "http://127.0.0.1:\(port)/webhooks/onesignal")!
    }

    func stop() async { await server.stop() }

    /// Waits until `count` requests arrived (or 5 s passed) and returns them.
    func waitFor(_ count: Int) async throws -> [RecordedRequest] {
        let deadline = ContinuousClock.now + .seconds(5)
        while log.count < count, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        return log.all
    }
}

@Suite("Message events (Event Streams)")
struct MessageEventTests {
    @Test("An emitted event arrives with the secret header and HubSignal's flat template")
    func emitFlat() async throws {
        let receiver = EventReceiver()
        let url = try await receiver.start()
        defer { Task { await receiver.stop() } }
        try await withSandbox { sandbox, client in
            try sandbox.seedUser(appID: TestApps.a.id, externalID: "e1", subscriptions: [.init(type: "iOSPush", token: "t")])
            let sent = try await client.send(
                .POST, "/notifications",
                body: #"{"app_id":"\#(TestApps.a.id)","include_aliases":{"external_id":["e1"]},"target_channel":"push","contents":{"en":"Hi"},"headings":{"en":"Sale"},"url":"https://example.com/sale","name":"weekly-promo"}"#)
            let notificationID = try #require(sent.json["id"]?.stringValue)

            let delivery = await sandbox.emitMessageEvent(
                kind: "clicked", notificationID: notificationID, externalID: "e1", to: url,
                secretHeader: (name: "Authorization", value: "Bearer s3cret"))
            #expect(delivery.status == 200)
            #expect(delivery.attempts == 1)

            let received = try await receiver.waitFor(1)
            #expect(received.count == 1)
            let request = try #require(received.first)
            #expect(request.header("Authorization") == "Bearer s3cret")
            let body = json(request.bodyText)
            #expect(body["event_id"] == .string(delivery.event.id))
            #expect(UUID(uuidString: delivery.event.id) != nil)
            #expect(body["kind"] == .string("message.push.clicked"))
            #expect(body["external_id"] == .string("e1"))
            #expect(body["app_id"] == .string(TestApps.a.id))
            #expect(body["message_id"] == .string(notificationID))
            #expect(body["message_name"] == .string("weekly-promo"))
            #expect(body["title"] == .string("Sale"))
            #expect(body["url"] == .string("https://example.com/sale"))
            #expect(body["device_type"] == .string("iOS"))
            #expect(body["onesignal_id"] == .string(sandbox.user(appID: TestApps.a.id, externalID: "e1")?.onesignalID ?? "-"))
            if case .int(let timestamp)? = body["timestamp"] {
                #expect(abs(Double(timestamp) - Date().timeIntervalSince1970) < 60)
            } else {
                Issue.record("timestamp is not a number: \(String(describing: body["timestamp"]))")
            }

            let second = await sandbox.emitMessageEvent(
                kind: "message.push.failed", notificationID: notificationID, externalID: "e1", to: url,
                secretHeader: (name: "Authorization", value: "Bearer s3cret"), template: .dotted, failureReason: "invalid token")
            #expect(second.event.id != delivery.event.id)
            let both = try await receiver.waitFor(2)
            let dotted = json(try #require(both.last).bodyText)
            #expect(dotted["event.kind"] == .string("message.push.failed"))
            #expect(dotted["event.id"] == .string(second.event.id))
            #expect(dotted["event.data.failure_reason"] == .string("invalid token"))
            #expect(dotted["event.timestamp"]?.stringValue.flatMap(Int.init) != nil)

            // HubSignal's own receiver accepts both bodies.
            let flatEvent = try OneSignalEventParser.parse(body, receivedAt: Date())
            #expect(flatEvent.type.rawValue == "onesignal.message.push.clicked")
            #expect(flatEvent.stream == "user:e1")
            #expect(flatEvent.idempotencyKey == delivery.event.id)
            let dottedEvent = try OneSignalEventParser.parse(dotted, receivedAt: Date())
            #expect(dottedEvent.type.rawValue == "onesignal.message.push.failed")
            #expect(dottedEvent.stream == "user:e1")
            #expect(dottedEvent.idempotencyKey == second.event.id)
        }
    }

    @Test("With a stream configured, every recipient yields sent then received")
    func automatic() async throws {
        let receiver = EventReceiver()
        let url = try await receiver.start()
        defer { Task { await receiver.stop() } }
        var configuration = TestApps.configuration()
        configuration.messageEvents = .init(url: url, secretHeader: .init(name: "Authorization", value: "Bearer auto"))
        try await withSandbox(configuration) { sandbox, client in
            try sandbox.seedUser(appID: TestApps.a.id, externalID: "a1", subscriptions: [.init(type: "AndroidPush", token: "x")])
            try sandbox.seedUser(appID: TestApps.a.id, externalID: "a2", subscriptions: [.init(type: "iOSPush", token: "y")])
            let sent = try await client.send(
                .POST, "/notifications",
                body: #"{"app_id":"\#(TestApps.a.id)","include_aliases":{"external_id":["a1","a2"]},"target_channel":"push","contents":{"en":"Hi"}}"#)
            let notificationID = try #require(sent.json["id"]?.stringValue)
            let received = try await receiver.waitFor(4)
            #expect(received.count == 4)
            let bodies = received.map { json($0.bodyText) }
            #expect(bodies.map { $0["kind"]?.stringValue ?? "" } == [
                "message.push.sent", "message.push.received", "message.push.sent", "message.push.received",
            ])
            #expect(bodies.map { $0["external_id"]?.stringValue ?? "" } == ["a1", "a1", "a2", "a2"])
            #expect(Set(bodies.compactMap { $0["message_id"]?.stringValue }) == [notificationID])
            #expect(Set(bodies.compactMap { $0["event_id"]?.stringValue }).count == 4)
            #expect(received.allSatisfy { $0.header("Authorization") == "Bearer auto" })
        }
    }

    @Test("A webhook answering 503 is retried with the same event until it answers 2xx; a 404 is not retried")
    func retries() async throws {
        let receiver = EventReceiver()
        let url = try await receiver.start()
        defer { Task { await receiver.stop() } }
        try await withSandbox { sandbox, _ in
            receiver.faults.inject(.status(503), times: 2)
            let retried = await sandbox.emitMessageEvent(
                kind: "sent", notificationID: "f3c9cd09-10d7-4f59-b9bc-66e16607f1d5", externalID: "x", to: url,
                secretHeader: (name: "Authorization", value: "Bearer s"))
            #expect(retried.status == 200)
            #expect(retried.attempts == 3)
            let received = try await receiver.waitFor(3)
            #expect(received.map(\.status) == [503, 503, 200])
            #expect(Set(received.map { json($0.bodyText)["event_id"]?.stringValue ?? "" }) == [retried.event.id])
            #expect(json(received[0].bodyText)["message_id"] == .string("f3c9cd09-10d7-4f59-b9bc-66e16607f1d5"))

            let bad = url.deletingLastPathComponent().appendingPathComponent("missing")
            let refused = await sandbox.emitMessageEvent(
                kind: "sent", notificationID: UUID().uuidString, externalID: "x", to: bad,
                secretHeader: (name: "Authorization", value: "Bearer s"))
            #expect(refused.status == 404)
            #expect(refused.attempts == 1)
            #expect(sandbox.emittedEvents.count == 2)
        }
    }
}
