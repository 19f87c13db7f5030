import Foundation
import Mapping
import PQ

/// `devices`: the OneSignal users and subscriptions seen for each contact.
struct DevicesTable: PeopleTable {
    static let name = "devices"
    static let columns = ["app", "device_key", "contact_id", "onesignal_id", "external_id", "subscription_id", "channel", "last_event_at", "tags"]
    let sqlName: String

    /// Inserts `devices` or completes their rows (known ids are kept, the last event time only moves forward), then
    /// sets the tags of those whose tags are known.
    func upsert(_ devices: [DeviceRecord], in state: PeopleState, on connection: PQConnection) async throws {
        try await connection.execute(
            """
            INSERT INTO \(unsafeRaw: sqlName) (app, device_key, contact_id, onesignal_id, external_id, subscription_id,
                channel, last_event_at)
            SELECT * FROM unnest(\(devices.map(\.app))::text[], \(devices.map(\.deviceKey))::text[],
                \(devices.map { state.resolve($0.contactID) })::text[], \(PQNullableArray(devices.map(\.oneSignalID)))::text[],
                \(PQNullableArray(devices.map(\.externalID)))::text[], \(PQNullableArray(devices.map(\.subscriptionID)))::text[],
                \(PQNullableArray(devices.map(\.channel)))::text[], \(devices.map(\.lastEventAt))::timestamptz[])
            ON CONFLICT (app, device_key) DO UPDATE SET contact_id = EXCLUDED.contact_id,
                onesignal_id = COALESCE(EXCLUDED.onesignal_id, devices.onesignal_id),
                external_id = COALESCE(EXCLUDED.external_id, devices.external_id),
                subscription_id = COALESCE(EXCLUDED.subscription_id, devices.subscription_id),
                channel = COALESCE(EXCLUDED.channel, devices.channel),
                last_event_at = GREATEST(EXCLUDED.last_event_at, devices.last_event_at)
            """, name: "people.write_devices")
        let tagged = devices.filter { $0.tags != nil }
        guard !tagged.isEmpty else { return }
        try await connection.execute(
            """
            UPDATE \(unsafeRaw: sqlName) d SET tags = t.tags
            FROM unnest(\(tagged.map(\.app))::text[], \(tagged.map(\.deviceKey))::text[],
                        \(tagged.map { PeopleTables.jsonb(.object($0.tags ?? [:])) })::jsonb[]) AS t(app, device_key, tags)
            WHERE d.app = t.app AND d.device_key = t.device_key
            """, name: "people.write_device_tags")
    }

    static func copyRows(of state: PeopleState, mapping: Mapping, into writer: inout PQCopyWriter) throws {
        for device in state.devices.values {
            writer.append(device.app)
            writer.append(device.deviceKey)
            writer.append(state.resolve(device.contactID))
            writer.append(device.oneSignalID)
            writer.append(device.externalID)
            writer.append(device.subscriptionID)
            writer.append(device.channel)
            writer.append(time: device.lastEventAt)
            writer.append(json: .object(device.tags ?? [:]))
            try writer.endRow()
        }
    }
}
