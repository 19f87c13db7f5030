import Domain
import Foundation
import Mapping
import PQ

/// `sync_status`: each contact's delivery state at HubSpot and at each OneSignal app (`ContactRecord.syncStatus`).
struct SyncStatusTable: PeopleTable {
    static let name = "sync_status"
    static let columns = ["contact_id", "destination", "app", "state", "reason", "desired", "acknowledged", "dropped", "updated_at"]
    let sqlName: String

    /// Writes the rows of `contacts` (and deletes those of apps a contact no longer goes to); `hubSpotProperties[i]` is
    /// what the mapping derives for `contacts[i]`.
    func upsert(
        _ contacts: [ContactRecord], hubSpotProperties: [[String: JSONValue]], mapping: Mapping, on connection: PQConnection
    ) async throws {
        var ids: [String] = []
        var destinations: [String] = []
        var apps: [String] = []
        var states: [String] = []
        var reasons: [String?] = []
        var desired: [PQJSONB] = []
        var acknowledged: [PQJSONB?] = []
        var dropped: [PQJSONB] = []
        var updatedAt: [Date] = []
        for (contact, properties) in zip(contacts, hubSpotProperties) {
            for row in contact.syncStatus(hubSpotProperties: properties, mapping: mapping) {
                ids.append(contact.id)
                destinations.append(row.destination)
                apps.append(row.app)
                states.append(row.state)
                reasons.append(row.reason)
                desired.append(PeopleTables.jsonb(.object(row.desired)))
                acknowledged.append(row.acknowledged.map { PeopleTables.jsonb(.object($0)) })
                dropped.append(PeopleTables.jsonb(.object(row.dropped.mapValues(JSONValue.string))))
                updatedAt.append(contact.lastSeenAt)
            }
        }
        // A contact whose traits now route it to other OneSignal apps loses the rows of the apps it left (with one app
        // and no routing rule, every contact always has the same rows).
        if mapping.oneSignalApps.count > 1 || mapping.oneSignal.apps != .all {
            let keys = zip(zip(ids, destinations), apps).map { "\($0.0)\u{1F}\($0.1)\u{1F}\($1)" }
            try await connection.execute(
                """
                DELETE FROM \(unsafeRaw: sqlName)
                WHERE contact_id = ANY(\(contacts.map(\.id))::text[])
                  AND NOT (contact_id || chr(31) || destination || chr(31) || app) = ANY(\(keys)::text[])
                """, name: "people.prune_sync_status")
        }
        try await connection.execute(
            """
            INSERT INTO \(unsafeRaw: sqlName) (contact_id, destination, app, state, reason, desired, acknowledged,
                dropped, updated_at)
            SELECT * FROM unnest(\(ids)::text[], \(destinations)::text[], \(apps)::text[], \(states)::text[],
                                 \(PQNullableArray(reasons))::text[], \(desired)::jsonb[], \(PQNullableArray(acknowledged))::jsonb[],
                                 \(dropped)::jsonb[], \(updatedAt)::timestamptz[])
            ON CONFLICT (contact_id, destination, app) DO UPDATE SET state = EXCLUDED.state, reason = EXCLUDED.reason,
                desired = EXCLUDED.desired, acknowledged = EXCLUDED.acknowledged, dropped = EXCLUDED.dropped,
                updated_at = EXCLUDED.updated_at
            """, name: "people.write_sync_status")
    }

    static func copyRows(of state: PeopleState, mapping: Mapping, into writer: inout PQCopyWriter) throws {
        for contact in state.contacts.values {
            let properties = PeopleTables.hubSpotProperties(of: contact, mapping: mapping)
            for row in contact.syncStatus(hubSpotProperties: properties, mapping: mapping) {
                writer.append(contact.id)
                writer.append(row.destination)
                writer.append(row.app)
                writer.append(row.state)
                writer.append(row.reason)
                writer.append(json: .object(row.desired))
                writer.append(json: row.acknowledged.map(JSONValue.object))
                writer.append(json: .object(row.dropped.mapValues(JSONValue.string)))
                writer.append(time: contact.lastSeenAt)
                try writer.endRow()
            }
        }
    }
}
