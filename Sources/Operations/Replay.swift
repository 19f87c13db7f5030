import Delivery
import Domain
import EventStore
import Foundation
import PQ

/// `hubsignal replay`: pushes contacts' desired state to a destination again, in full, as if it had never been
/// acknowledged (after someone edited or deleted data there).
///
/// It appends `hubsignal.replay_requested` (at most 1,000 contacts each), so the projection forgets what the
/// destination acknowledged, and in the same transaction the ledger forgets its copy; the running sync then sends every
/// desired value once. Events that went out as events (behavioral events, timelines, notifications) are not resent.
public struct Replay: Sendable {
    /// Which contacts.
    public enum Selection: Sendable {
        /// These contact ids (merged ids resolve to their survivor in the projection).
        case contacts([String])
        /// Contacts seen (`contacts.last_seen_at`) in `[since, until)`.
        case seen(since: Date, until: Date)
    }

    let client: PQClient
    let store: EventStore

    public init(client: PQClient, store: EventStore) {
        self.client = client
        self.store = store
    }

    /// The contact ids a selection names that exist in the read models.
    public func contacts(_ selection: Selection) async throws -> [String] {
        switch selection {
        case .contacts(let ids):
            return try await client.query(
                "SELECT contact_id FROM contacts WHERE contact_id = ANY(\(ids)::text[]) ORDER BY contact_id", name: "replay.contacts")
                .map { try $0.decode(String.self, at: 0) }
        case .seen(let since, let until):
            return try await client.query(
                """
                SELECT contact_id FROM contacts WHERE last_seen_at >= \(since) AND last_seen_at < \(until) ORDER BY contact_id
                """, name: "replay.window")
                .map { try $0.decode(String.self, at: 0) }
        }
    }

    /// Requests the replay of `contactIDs` to `destination` (`hubspot`, `onesignal` for every app, or
    /// `onesignal:<app>`). Returns how many contacts it covers.
    @discardableResult
    public func request(destination: String, contactIDs: [String], reason: String = "hubsignal replay") async throws -> Int {
        let parts = destination.split(separator: ":", maxSplits: 1).map(String.init)
        guard let target = parts.first.flatMap(Destination.init(rawValue:)), target == .onesignal || parts.count == 1 else {
            throw ReplayError("the destination must be hubspot, onesignal or onesignal:<app>, not '\(destination)'")
        }
        let app = parts.count == 2 ? parts[1] : nil
        // `nil`: every app's users.
        let kind: DeliveryKind? = target == .hubspot ? .contact : app.map { .user(app: $0) }
        let everyAppsUsers = DeliveryKind.userPrefix
        let requestID = UUID().uuidString
        for (index, start) in stride(from: 0, to: contactIDs.count, by: 1000).enumerated() {
            let batch = Array(contactIDs[start..<min(start + 1000, contactIDs.count)])
            let event = try NewEvent(
                ReplayRequested(destination: target, app: app, contactIDs: batch, reason: reason), stream: "replay:\(requestID)",
                idempotencyKey: "replay:\(requestID):\(index)")
            try await client.withTransaction { connection in
                _ = try await store.append([event], on: connection)
                try await connection.execute(
                    """
                    UPDATE deliveries SET acknowledged = NULL, desired_hash = NULL, updated_at = now()
                    WHERE destination = \(target.rawValue) AND object_key = ANY(\(batch)::text[])
                      AND (object_kind = \(kind?.rawValue) OR (\(kind?.rawValue)::text IS NULL AND starts_with(object_kind, \(everyAppsUsers))))
                    """, name: "replay.ledger")
            }
        }
        return contactIDs.count
    }
}

/// A replay that cannot be requested as asked.
public struct ReplayError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
