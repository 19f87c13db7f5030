import Domain
import EventStore
import Foundation
import Ingestion
import Logging
import PQ

/// The `onesignal-actions` subscription: turns HubSpot "Send OneSignal notification" and "Edit OneSignal tags" workflow
/// actions (`EventType/sendNotification`, `EventType/editTags`) into rows of `onesignal_outbox` for the app the action
/// names (else the first configured app), in the transaction of its checkpoint, so each action is queued exactly once;
/// the OneSignal sync of that app carries them out and completes the workflow action. An edit-tags row's request holds
/// `tags` (tag → string, or `null` to remove).
///
/// It reads the log from the beginning the first time it runs, but skips actions older than `maximumAge` (HubSpot
/// gives up waiting for an action's completion after the expiration HubSignal answered: one day), so enabling the
/// OneSignal sync never sends stale notifications.
public struct OneSignalOutbox: Sendable {
    /// The subscription's name (its checkpoint in `subscription_checkpoints`).
    public static let name = "onesignal-actions"
    /// Actions older than this are not sent (HubSignal asks HubSpot to wait one day: `hs_expiration_duration` P1D).
    public static let maximumAge: TimeInterval = 24 * 3600

    /// The app of actions that name none.
    let defaultApp: String

    public init(defaultApp: String) {
        self.defaultApp = defaultApp
    }

    /// The subscription that fills the outbox.
    public func makeSubscription(store: EventStore, watcher: LogWatcher, logger: Logger) -> Subscription {
        var configuration = Subscription.Configuration(name: Self.name)
        configuration.startPosition = .origin
        configuration.batchSize = 1000
        return Subscription(configuration: configuration, store: store, watcher: watcher, logger: logger) { events, connection in
            try await queue(events, on: connection)
        }
    }

    struct Row {
        var callbackID: String
        var position: Int64
        var app: String
        var objectID: String
        var externalID: String?
        var email: String?
        var request: [String: JSONValue]
        var receivedAt: Date
    }

    func queue(_ events: [RecordedEvent], on connection: PQConnection) async throws {
        let now = Date()
        let rows = events.compactMap { event in
            event.occurredAt.timeIntervalSince(now) > -Self.maximumAge ? row(for: event) : nil
        }
        guard !rows.isEmpty else { return }
        try await connection.execute(
            """
            INSERT INTO onesignal_outbox (callback_id, position, app, hubspot_object_id, external_id, email, request, received_at)
            SELECT * FROM unnest(\(rows.map(\.callbackID))::text[], \(rows.map(\.position))::bigint[], \(rows.map(\.app))::text[],
                \(rows.map(\.objectID))::text[], \(PQNullableArray(rows.map(\.externalID)))::text[],
                \(PQNullableArray(rows.map(\.email)))::text[],
                \(rows.map { PQJSONB(bytes: (try? JSONValue.object($0.request).serialized()) ?? Array("{}".utf8)) })::jsonb[],
                \(rows.map(\.receivedAt))::timestamptz[])
            ON CONFLICT (callback_id) DO NOTHING
            """, name: "delivery.queue_onesignal_actions")
    }

    func row(for event: RecordedEvent) -> Row? {
        guard event.type == .sendNotification || event.type == .editTags,
            let body = try? JSONValue.parse(event.payload.bytes),
            let callbackID = body["callbackId"]?.stringValue,
            let objectID = body["object"]?["objectId"]?.identifierValue,
            let inputs = body["inputFields"]?.objectValue ?? body["fields"]?.objectValue
        else { return nil }
        func text(_ name: String) -> String? {
            guard let value = inputs[name]?.scalarText?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
            return value
        }
        var request: [String: JSONValue] = [:]
        if event.type == .editTags {
            // Checked when HubSpot called the action: an action that no longer parses is left out.
            guard let tags = try? HubSpotWorkflowAction.tags(inputs) else { return nil }
            request["tags"] = .object(tags.mapValues { $0.map(JSONValue.string) ?? .null })
            return Row(
                callbackID: callbackID, position: event.position, app: text("app") ?? defaultApp, objectID: objectID,
                externalID: text("external_id"), email: text("email")?.lowercased(), request: request, receivedAt: event.occurredAt)
        }
        for name in WorkflowNotification.inputNames {
            if let value = text(name) { request[name] = .string(value) }
        }
        // The contact's properties HubSpot sent (`objectRequestOptions`), for the texts' `{{ contact.… }}` placeholders.
        if let properties = body["object"]?["properties"]?.objectValue { request["properties"] = .object(properties) }
        return Row(
            callbackID: callbackID, position: event.position, app: text("app") ?? defaultApp, objectID: objectID,
            externalID: text("external_id"), email: text("email")?.lowercased(), request: request, receivedAt: event.occurredAt)
    }
}
