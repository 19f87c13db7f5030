import Domain
import Foundation
import Mapping
import PQ

/// `contacts`: one row per person, with what HubSignal derives for HubSpot and what the destinations acknowledged.
struct ContactsTable: PeopleTable {
    static let name = "contacts"
    static let columns = [
        "contact_id", "user_id", "email", "traits", "hubspot_properties", "hubspot_values", "hubspot_contact_id",
        "onesignal_id", "first_seen_at", "last_seen_at", "created_transaction_id", "created_position", "updated_position",
        "hubspot_acknowledged", "onesignal_acknowledged", "hubspot_failure", "onesignal_failures",
        "onesignal_event_tags", "onesignal_activity", "write_key_id",
    ]
    let sqlName: String

    /// Inserts or replaces the rows of `contacts`; `hubSpotProperties[i]` is what the mapping derives for `contacts[i]`
    /// (`PeopleTables.hubSpotProperties(of:mapping:)`).
    func upsert(_ contacts: [ContactRecord], hubSpotProperties: [[String: JSONValue]], on connection: PQConnection) async throws {
        let properties = hubSpotProperties.map { PeopleTables.jsonb(.object($0)) }
        try await connection.execute(
            """
            INSERT INTO \(unsafeRaw: sqlName) (contact_id, user_id, email, traits, hubspot_properties, hubspot_values,
                hubspot_contact_id, onesignal_id, first_seen_at, last_seen_at, created_transaction_id, created_position,
                updated_position, hubspot_acknowledged, onesignal_acknowledged, hubspot_failure, onesignal_failures,
                onesignal_event_tags, onesignal_activity, write_key_id)
            SELECT * FROM unnest(\(contacts.map(\.id))::text[], \(PQNullableArray(contacts.map(\.userID)))::text[],
                \(PQNullableArray(contacts.map(\.email)))::text[], \(contacts.map { PeopleTables.jsonb(.object($0.traits)) })::jsonb[],
                \(properties)::jsonb[], \(contacts.map { PeopleTables.jsonb(.object($0.hubSpotValues)) })::jsonb[],
                \(PQNullableArray(contacts.map(\.hubSpotContactID)))::text[], \(PQNullableArray(contacts.map(\.oneSignalID)))::text[],
                \(contacts.map(\.firstSeenAt))::timestamptz[], \(contacts.map(\.lastSeenAt))::timestamptz[],
                \(contacts.map { String($0.createdAt.transactionID) })::xid8[], \(contacts.map(\.createdAt.position))::bigint[],
                \(contacts.map(\.updatedPosition))::bigint[],
                \(PQNullableArray(contacts.map { $0.hubSpotAcknowledged.map { PeopleTables.jsonb(.object($0)) } }))::jsonb[],
                \(PQNullableArray(contacts.map { Self.oneSignalAcknowledged($0).map(PeopleTables.jsonb) }))::jsonb[],
                \(PQNullableArray(contacts.map(\.hubSpotFailure)))::text[],
                \(contacts.map { PeopleTables.jsonb(.object($0.oneSignalFailures.mapValues(JSONValue.string))) })::jsonb[],
                \(contacts.map { PeopleTables.jsonb(.object($0.oneSignalEventTags)) })::jsonb[],
                \(contacts.map { PeopleTables.jsonb(.object($0.oneSignalActivity)) })::jsonb[],
                \(PQNullableArray(contacts.map(\.writeKeyID)))::text[])
            ON CONFLICT (contact_id) DO UPDATE SET user_id = EXCLUDED.user_id, email = EXCLUDED.email, traits = EXCLUDED.traits,
                hubspot_properties = EXCLUDED.hubspot_properties, hubspot_values = EXCLUDED.hubspot_values,
                hubspot_contact_id = EXCLUDED.hubspot_contact_id, onesignal_id = EXCLUDED.onesignal_id,
                first_seen_at = EXCLUDED.first_seen_at, last_seen_at = EXCLUDED.last_seen_at,
                updated_position = EXCLUDED.updated_position, hubspot_acknowledged = EXCLUDED.hubspot_acknowledged,
                onesignal_acknowledged = EXCLUDED.onesignal_acknowledged, hubspot_failure = EXCLUDED.hubspot_failure,
                onesignal_failures = EXCLUDED.onesignal_failures, onesignal_event_tags = EXCLUDED.onesignal_event_tags,
                onesignal_activity = EXCLUDED.onesignal_activity, write_key_id = EXCLUDED.write_key_id
            """, name: "people.write_contacts")
    }

    static func copyRows(of state: PeopleState, mapping: Mapping, into writer: inout PQCopyWriter) throws {
        for contact in state.contacts.values {
            writer.append(contact.id)
            writer.append(contact.userID)
            writer.append(contact.email)
            writer.append(json: .object(contact.traits))
            writer.append(json: .object(PeopleTables.hubSpotProperties(of: contact, mapping: mapping)))
            writer.append(json: .object(contact.hubSpotValues))
            writer.append(contact.hubSpotContactID)
            writer.append(contact.oneSignalID)
            writer.append(time: contact.firstSeenAt)
            writer.append(time: contact.lastSeenAt)
            writer.append(number: contact.createdAt.transactionID)
            writer.append(number: contact.createdAt.position)
            writer.append(number: contact.updatedPosition)
            writer.append(json: contact.hubSpotAcknowledged.map(JSONValue.object))
            writer.append(json: oneSignalAcknowledged(contact))
            writer.append(contact.hubSpotFailure)
            writer.append(json: .object(contact.oneSignalFailures.mapValues(JSONValue.string)))
            writer.append(json: .object(contact.oneSignalEventTags))
            writer.append(json: .object(contact.oneSignalActivity))
            writer.append(contact.writeKeyID)
            try writer.endRow()
        }
    }

    /// `onesignal_acknowledged`: app name → tags; `nil` (SQL NULL) when no app acknowledged anything.
    static func oneSignalAcknowledged(_ contact: ContactRecord) -> JSONValue? {
        contact.oneSignalAcknowledged.isEmpty ? nil : .object(contact.oneSignalAcknowledged.mapValues(JSONValue.object))
    }
}
