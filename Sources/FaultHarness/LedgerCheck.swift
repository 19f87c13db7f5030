import Domain
import Foundation
import HubSpotSandbox
import Ingestion
import OneSignalSandbox
import PQ
import Projections

/// The three ledgers of a run compared: what clients were told was accepted, what the event log holds, and what the
/// HubSpot and OneSignal sandboxes hold (which must equal the read models' desired state; notifications once each).
public struct LedgerReport: Sendable, CustomStringConvertible {
    /// Acknowledged message ids missing from the log.
    public var missingFromLog: [String] = []
    /// (source, idempotency key) pairs stored more than once.
    public var duplicatedInLog: [String] = []
    /// Acknowledged calls found in the log.
    public var acknowledgedInLog = 0
    /// Contacts whose HubSpot record differs from the read model (email: property wanted ≠ found).
    public var hubSpotDiffering: [String] = []
    /// Contacts HubSpot was compared for.
    public var hubSpotCompared = 0
    /// Users whose OneSignal tags differ from the read model (app/external id: wanted ≠ found).
    public var oneSignalDiffering: [String] = []
    /// Users OneSignal was compared for.
    public var oneSignalCompared = 0
    /// `sync_status` rows that are neither in sync nor waiting for an identifier (destination state reason).
    public var unsettled: [String] = []
    /// Workflow notification requests in the log.
    public var notificationRequests = 0
    /// Notifications the sandbox created (all apps).
    public var notificationsSent = 0
    /// Idempotency keys (or recipients) that reached OneSignal more than once.
    public var notificationsDuplicated: [String] = []

    /// Whether the three ledgers agree.
    public var isClean: Bool {
        missingFromLog.isEmpty && duplicatedInLog.isEmpty && hubSpotDiffering.isEmpty && oneSignalDiffering.isEmpty
            && unsettled.isEmpty && notificationsDuplicated.isEmpty && notificationsSent == notificationRequests
    }

    public var description: String {
        func list(_ items: [String]) -> String {
            items.isEmpty ? "none" : "\(items.count): " + items.prefix(5).joined(separator: "; ") + (items.count > 5 ? "; …" : "")
        }
        return """
            acknowledged calls in the log: \(acknowledgedInLog); missing: \(list(missingFromLog)); stored twice: \(list(duplicatedInLog))
            HubSpot contacts compared: \(hubSpotCompared); differing: \(list(hubSpotDiffering))
            OneSignal users compared: \(oneSignalCompared); differing: \(list(oneSignalDiffering))
            sync_status not settled: \(list(unsettled))
            notifications requested: \(notificationRequests); sent: \(notificationsSent); sent twice: \(list(notificationsDuplicated))
            """
    }
}

/// Waits for a run to settle and compares its three ledgers.
public enum LedgerCheck {
    /// Waits until nothing is left to do: every subscription has read the whole log, no contact is `pending`, no push
    /// is in flight or waiting for a retry (`deliveries.state = 'queued'`), and the outboxes are empty — twice in a row,
    /// `interval` apart. Returns whether that happened before `timeout`.
    ///
    /// "Read the whole log" compares in the readers' order, `(transaction_id, position)`: a reader that is done can hold
    /// a checkpoint whose position is below the highest one (events appended late by a transaction that began early
    /// come before it in that order).
    @discardableResult
    public static func waitUntilSettled(client: PQClient, timeout: Duration = .seconds(120), interval: Duration = .milliseconds(300))
        async throws -> Bool
    {
        let deadline = ContinuousClock.now + timeout
        var quietPolls = 0
        var lastHead: Int64 = -1
        while ContinuousClock.now < deadline {
            let rows = try? await client.query(
                """
                SELECT (SELECT COALESCE(max(position), 0) FROM events),
                       (SELECT count(*) FROM subscription_checkpoints c WHERE EXISTS (
                            SELECT 1 FROM events e WHERE (e.transaction_id, e.position) > (c.transaction_id, c.position))),
                       (SELECT count(*) FROM sync_status WHERE state = 'pending')
                         + (SELECT count(*) FROM deliveries WHERE state = 'queued'),
                       (SELECT count(*) FROM onesignal_outbox) + (SELECT count(*) FROM hubspot_event_outbox),
                       (SELECT count(*) FROM subscription_checkpoints WHERE name = \(PeopleProjection.name))
                """, name: "faults.settled")
            if let row = rows?.first, let (head, behind, pending, outboxes, projected) = try? row.decode((Int64, Int64, Int64, Int64, Int64).self) {
                if behind == 0 && pending == 0 && outboxes == 0 && projected == 1 && head == lastHead {
                    quietPolls += 1
                    if quietPolls >= 2 { return true }
                } else {
                    quietPolls = 0
                }
                lastHead = head
            }
            try await Task.sleep(for: interval)
        }
        return false
    }

    /// Compares the ledgers. `acknowledged`: the Segment message ids clients were told were stored. `oneSignalApps`:
    /// the app name (`sync_status.app`) → app id, for the apps in `oneSignal`.
    public static func compare(
        client: PQClient, acknowledged: Set<String>, hubSpot: HubSpotSandbox?, oneSignal: OneSignalSandbox?,
        oneSignalApps: [String: String] = [:]
    ) async throws -> LedgerReport {
        var report = LedgerReport()
        // 1. Client acknowledgements against the log.
        let keys = Array(acknowledged)
        // Segment keys are scoped by write key: `<write key id>:<messageId>`.
        let found = Set(
            try await client.query(
                """
                SELECT message_id FROM (
                    SELECT regexp_replace(idempotency_key, '^wk_[0-9a-f]{12}:', '') AS message_id FROM events WHERE source = 'segment'
                ) AS stored WHERE message_id = ANY(\(keys)::text[])
                """,
                name: "faults.acknowledged"
            ).map { try $0.decode(String.self, at: 0) })
        report.acknowledgedInLog = found.count
        report.missingFromLog = acknowledged.subtracting(found).sorted()
        report.duplicatedInLog = try await client.query(
            "SELECT source || ':' || idempotency_key FROM events GROUP BY source, idempotency_key HAVING count(*) > 1",
            name: "faults.duplicates"
        ).map { try $0.decode(String.self, at: 0) }

        // 2. The destinations against the read models.
        report.unsettled = try await client.query(
            """
            SELECT s.destination || ' ' || s.state || ' ' || COALESCE(s.reason, '') || ' (' || count(*) || ')'
            FROM sync_status s WHERE s.state NOT IN ('in_sync', 'waiting')
            GROUP BY s.destination, s.state, s.reason
            """, name: "faults.unsettled"
        ).map { try $0.decode(String.self, at: 0) }
        if let hubSpot {
            for row in try await client.query(
                """
                SELECT c.email, s.desired FROM sync_status s JOIN contacts c USING (contact_id)
                WHERE s.destination = \(Destination.hubspot.rawValue) AND c.email IS NOT NULL AND s.state <> 'waiting'
                """, name: "faults.hubspot_desired")
            {
                let (email, desired) = try row.decode((String, PQJSONB).self)
                report.hubSpotCompared += 1
                let wanted = (try JSONValue.parse(desired.bytes)).objectValue ?? [:]
                guard let record = hubSpot.contact(email: email) else {
                    report.hubSpotDiffering.append("\(email): not in HubSpot")
                    continue
                }
                for (name, value) in wanted.sorted(by: { $0.key < $1.key }) where (record.properties[name] ?? "") != (value.scalarText ?? "") {
                    report.hubSpotDiffering.append("\(email): \(name) \(value.scalarText ?? "null") ≠ \(record.properties[name] ?? "absent")")
                    break
                }
            }
        }
        if let oneSignal {
            for row in try await client.query(
                """
                SELECT s.app, c.user_id, s.desired FROM sync_status s JOIN contacts c USING (contact_id)
                WHERE s.destination = \(Destination.onesignal.rawValue) AND c.user_id IS NOT NULL AND s.state <> 'waiting'
                """, name: "faults.onesignal_desired")
            {
                let (app, userID, desired) = try row.decode((String, String, PQJSONB).self)
                guard let appID = oneSignalApps[app] else { continue }
                report.oneSignalCompared += 1
                var wanted: [String: String] = [:]
                for (tag, value) in (try JSONValue.parse(desired.bytes)).objectValue ?? [:] {
                    if let text = value.scalarText { wanted[tag] = text }
                }
                let tags = oneSignal.user(appID: appID, externalID: userID)?.tags
                if tags != wanted {
                    report.oneSignalDiffering.append("\(app)/\(userID): \(wanted.sorted { $0.key < $1.key }) ≠ \((tags ?? [:]).sorted { $0.key < $1.key })")
                }
            }
            // 3. Workflow notifications: one per request, never two with one idempotency key.
            report.notificationRequests = Int(
                try await client.query(
                    "SELECT count(DISTINCT idempotency_key) FROM events WHERE type = \(EventType.sendNotification.rawValue)",
                    name: "faults.notification_requests")[0].decode(Int64.self, at: 0))
            let notifications = oneSignalApps.values.flatMap { oneSignal.notifications(appID: $0) }
            report.notificationsSent = notifications.count
            var seen: [String: Int] = [:]
            for notification in notifications { seen[notification.idempotencyKey ?? notification.id, default: 0] += 1 }
            report.notificationsDuplicated = seen.filter { $0.value > 1 }.keys.sorted()
        }
        return report
    }
}
