import Domain
import PQ
import Projections

extension DeliveryLedger {
    /// Which of these contacts have no `sync_status` row at `destination` any more: an erasure deletes them (and the
    /// projection, once it applies the erasure), so a worker that claimed them before does not push them.
    func erasedContacts(_ contactIDs: [String], destination: Destination) async throws -> Set<String> {
        let rows = try await client.query(
            """
            SELECT id FROM unnest(\(contactIDs)::text[]) AS c(id)
            WHERE NOT EXISTS (SELECT 1 FROM \(table: .syncStatus) s WHERE s.contact_id = c.id AND s.destination = \(destination))
            """, name: "delivery.erased_contacts")
        return Set(try rows.map { try $0.decode(String.self, at: 0) })
    }

    /// Whether the notification's outbox row is still there (an erasure deletes the rows of the person's notifications).
    func isQueued(_ notification: ClaimedNotification) async throws -> Bool {
        try await client.query(
            "SELECT EXISTS (SELECT 1 FROM onesignal_outbox WHERE callback_id = \(notification.callbackID))",
            name: "delivery.notification_queued")[0].decode(Bool.self, at: 0)
    }
}
