import Foundation
import Mapping
import PQ

/// `message_activity`: notifications HubSignal was asked to send and OneSignal's message events, one row per event.
struct MessageActivityTable: PeopleTable {
    static let name = "message_activity"
    static let columns = ["position", "contact_id", "app", "notification_id", "activity", "channel", "kind", "occurred_at", "details"]
    let sqlName: String

    /// Inserts `activities` (an event already written keeps its row).
    func insert(_ activities: [ActivityRecord], in state: PeopleState, on connection: PQConnection) async throws {
        try await connection.execute(
            """
            INSERT INTO \(unsafeRaw: sqlName) (position, contact_id, app, notification_id, activity, channel,
                kind, occurred_at, details)
            SELECT * FROM unnest(\(activities.map(\.position))::bigint[],
                \(PQNullableArray(activities.map { $0.contactID.map(state.resolve) }))::text[],
                \(PQNullableArray(activities.map(\.app)))::text[], \(PQNullableArray(activities.map(\.notificationID)))::text[],
                \(activities.map(\.activity))::text[], \(PQNullableArray(activities.map(\.channel)))::text[],
                \(activities.map(\.kind))::text[], \(activities.map(\.occurredAt))::timestamptz[],
                \(activities.map { PeopleTables.jsonb($0.details) })::jsonb[])
            ON CONFLICT (position) DO NOTHING
            """, name: "people.write_activity")
    }

    static func copyRows(of state: PeopleState, mapping: Mapping, into writer: inout PQCopyWriter) throws {
        for activity in state.activities {
            writer.append(number: activity.position)
            writer.append(activity.contactID.map(state.resolve))
            writer.append(activity.app)
            writer.append(activity.notificationID)
            writer.append(activity.activity)
            writer.append(activity.channel)
            writer.append(activity.kind)
            writer.append(time: activity.occurredAt)
            writer.append(json: activity.details)
            try writer.endRow()
        }
    }
}
