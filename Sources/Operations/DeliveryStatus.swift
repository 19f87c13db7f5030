import Delivery
import Domain
import Foundation
import PQ

/// What `hubsignal status` shows per destination: how many contacts are waiting, pending, in sync or failed (from
/// `sync_status`), how many pushes are in flight, retrying or dead (from `deliveries`), the last error, and each
/// worker's rate-limit budget. With several OneSignal apps, each app other than `default` is its own destination,
/// `onesignal:<app>` (its users, retries and dead letters; workflow notifications count under `onesignal`).
public struct DeliveryStatus: Sendable, Equatable {
    /// One destination's figures.
    public struct Destination: Sendable, Equatable {
        public var name: String
        /// Contacts per `sync_status` state (`waiting`, `pending`, `in_sync`, `failed`).
        public var contacts: [String: Int]
        /// Claimed by a worker right now.
        public var inFlight: Int
        /// Waiting for another attempt after a retryable failure.
        public var retrying: Int
        /// Dead letters: refused for good (or after too many attempts), until `hubsignal retry` or new values.
        public var dead: Int
        /// The most recent error of a push, and when.
        public var lastError: String?
        public var lastErrorAt: Date?
        /// Workers seen in the last 5 minutes: name → rate-limit budget (`limit`, `remaining`, `dailyRemaining`…).
        public var workers: [String: [String: JSONValue]]
    }

    public var destinations: [Destination]

    /// Reads the status from the database.
    public static func read(client: PQClient) async throws -> DeliveryStatus {
        var destinations: [String: Destination] = [:]
        func destination(_ name: String) -> Destination {
            destinations[name] ?? Destination(
                name: name, contacts: [:], inFlight: 0, retrying: 0, dead: 0, lastError: nil, lastErrorAt: nil, workers: [:])
        }
        for name in Domain.Destination.allCases.map(\.rawValue) { destinations[name] = destination(name) }
        for row in try await client.query(
            """
            SELECT CASE WHEN app IN ('', 'default') THEN destination ELSE destination || ':' || app END, state, count(*)
            FROM sync_status GROUP BY 1, state
            """, name: "status.sync_status")
        {
            let (name, state, count) = try row.decode((String, String, Int64).self)
            destinations[name, default: destination(name)].contacts[state] = Int(count)
        }
        for row in try await client.query(
            """
            SELECT \(fragment: Self.destinationName),
                   count(*) FILTER (WHERE NOT \(unsafeRaw: DeliveryLedger.claimLapsed("deliveries"))),
                   count(*) FILTER (WHERE state = 'queued' AND attempts > 0 AND \(unsafeRaw: DeliveryLedger.claimLapsed("deliveries"))),
                   count(*) FILTER (WHERE state = 'dead')
            FROM deliveries GROUP BY 1
            """, name: "status.deliveries")
        {
            let (name, inFlight, retrying, dead) = try row.decode((String, Int64, Int64, Int64).self)
            destinations[name, default: destination(name)].inFlight = Int(inFlight)
            destinations[name, default: destination(name)].retrying = Int(retrying)
            destinations[name, default: destination(name)].dead = Int(dead)
        }
        for row in try await client.query(
            """
            SELECT DISTINCT ON (1) \(fragment: Self.destinationName), last_error, last_attempt_at FROM deliveries
            WHERE last_error IS NOT NULL ORDER BY 1, last_attempt_at DESC NULLS LAST
            """, name: "status.last_error")
        {
            let (name, error, at) = try row.decode((String, String, Date?).self)
            destinations[name, default: destination(name)].lastError = error
            destinations[name, default: destination(name)].lastErrorAt = at
        }
        for row in try await client.query(
            """
            SELECT destination, worker, budget, last_error, last_error_at FROM delivery_workers
            WHERE heartbeat_at > now() - interval '5 minutes'
            """, name: "status.workers")
        {
            let (name, worker, budget, error, at) = try row.decode((String, String, PQJSONB, String?, Date?).self)
            destinations[name, default: destination(name)].workers[worker] = (try? JSONValue.parse(budget.bytes))?.objectValue ?? [:]
            if let error, let at, destinations[name]?.lastErrorAt.map({ $0 < at }) ?? true {
                destinations[name]?.lastError = error
                destinations[name]?.lastErrorAt = at
            }
        }
        // Privacy deletions whose erasure failed (PrivacyDeletions' dead letters), shown as their own line.
        let failures = try await client.query(
            """
            SELECT count(*), (SELECT reason FROM erasure_failures ORDER BY failed_at DESC LIMIT 1), max(failed_at)
            FROM erasure_failures
            """, name: "status.erasure_failures")
        let (failed, lastFailure, lastFailedAt) = try failures[0].decode((Int64, String?, Date?).self)
        if failed > 0 {
            destinations[PrivacyDeletions.name] = Destination(
                name: PrivacyDeletions.name, contacts: [:], inFlight: 0, retrying: 0, dead: Int(failed), lastError: lastFailure,
                lastErrorAt: lastFailedAt, workers: [:])
        }
        return DeliveryStatus(destinations: destinations.values.sorted { $0.name < $1.name })
    }

    /// A ledger row's destination as `status` names it: OneSignal users of an app other than `default` (object kind
    /// `user:<app>`) under `onesignal:<app>`.
    static let destinationName: PQQuery = {
        let users = DeliveryKind.userPrefix
        return """
            CASE WHEN starts_with(object_kind, \(users)) AND object_kind <> \(DeliveryKind.user(app: "default").rawValue)
                 THEN destination || ':' || substr(object_kind, \(unsafeRaw: String(users.count + 1))) ELSE destination END
            """
    }()
}
