import Domain
import Foundation
import PQ

/// The values HubSignal leaves out at each destination, from `sync_status.dropped`: what `hubsignal events` shows for
/// one contact and `hubsignal status` counts per destination. HubSpot rows hold traits the mapping leaves out (by trait
/// key or path) and values the sync left out (by property: the property does not exist, HubSpot refused the value,
/// HubSpot kept a later lifecycle stage); OneSignal rows hold the tags left out.
public enum DroppedValues {
    /// One value left out for one contact at one destination.
    public struct Entry: Sendable, Equatable {
        /// `hubspot`, `onesignal`, or `onesignal:<app>` for an app other than `default`.
        public var destination: String
        /// The trait key, path, property or tag source left out.
        public var key: String
        public var reason: String
    }

    /// How often one key is left out at one destination.
    public struct Count: Sendable, Equatable {
        public var destination: String
        public var key: String
        public var contacts: Int
    }

    /// Everything left out for `contactID`, by destination then key.
    public static func of(contactID: String, client: PQClient) async throws -> [Entry] {
        try await client.query(
            """
            SELECT \(unsafeRaw: destinationName), d.key, d.value
            FROM sync_status s, jsonb_each_text(s.dropped) d
            WHERE s.contact_id = \(contactID) ORDER BY 1, 2
            """, name: "dropped.contact"
        ).map { row in
            let (destination, key, reason) = try row.decode((String, String, String).self)
            return Entry(destination: destination, key: key, reason: reason)
        }
    }

    /// The keys most often left out, per destination: at most `limit` per destination, most contacts first.
    public static func mostCommon(limit: Int = 5, client: PQClient) async throws -> [Count] {
        try await client.query(
            """
            SELECT destination, key, contacts FROM (
                SELECT \(unsafeRaw: destinationName) AS destination, d.key, count(*) AS contacts,
                       row_number() OVER (PARTITION BY \(unsafeRaw: destinationName) ORDER BY count(*) DESC, d.key) AS rank
                FROM sync_status s, jsonb_each_text(s.dropped) d GROUP BY 1, 2
            ) ranked WHERE rank <= \(Int64(limit)) ORDER BY destination, contacts DESC, key
            """, name: "dropped.most_common"
        ).map { row in
            let (destination, key, contacts) = try row.decode((String, String, Int64).self)
            return Count(destination: destination, key: key, contacts: Int(contacts))
        }
    }

    private static let destinationName =
        "CASE WHEN s.app IN ('', 'default') THEN s.destination ELSE s.destination || ':' || s.app END"
}
