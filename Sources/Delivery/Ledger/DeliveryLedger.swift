import Domain
import EventStore
import Foundation
import Ingestion
import PQ
import Projections

/// The `deliveries` table: who pushes which destination object now (claims with a lease), what was pushed last (the
/// desired values' hash), retries with backoff, and dead letters. Work itself comes from the read models.
///
/// A claim lasts until its worker records the outcome, its lease expires, or the process holding it is gone (the
/// claim names its ``ClaimHolder`` token; `holder: nil` claims lapse with their lease only). Every claim goes through
/// `claimStatement(_:kind:rule:lease:owner:holder:select:)`.
public struct DeliveryLedger: Sendable {
    let client: PQClient

    public init(client: PQClient) {
        self.client = client
    }

    /// A HubSpot contact claimed for a push: its email (the upsert key), desired and acknowledged values.
    public struct ClaimedContact: Sendable, Hashable {
        public var contactID: String
        public var email: String?
        public var hubSpotContactID: String?
        /// The position of the last event that changed the contact (part of result events' idempotency keys).
        public var updatedPosition: Int64
        public var desired: [String: JSONValue]
        public var acknowledged: [String: JSONValue]
        /// md5 of the desired values as claimed.
        public var desiredHash: String
        /// Failed attempts so far (a worker that died holding the contact counts as one). When above zero, the
        /// outcome of an earlier attempt is unknown: the destination may hold values it sent, whatever the read model
        /// says was acknowledged. `-1`: a confirmation push after such a push (see ``Outcome/confirm(after:desiredHash:acknowledged:)``).
        public var attempts: Int
    }

    /// Claims up to `limit` HubSpot contacts whose desired values differ from what HubSpot acknowledged, that have not
    /// changed for `linger` (coalescing: a burst of changes to one contact becomes one push), for `lease`. Fewer than
    /// `limit` are claimed only once the oldest of them has been unchanged for twice `linger` (fuller batches).
    ///
    /// - Parameter holder: the claiming process's ``ClaimHolder`` token; `nil` ties the claims to the lease only.
    public func claimHubSpotContacts(
        limit: Int, linger: Duration, lease: Duration, owner: String, holder: Int64? = nil
    ) async throws -> [ClaimedContact] {
        let attempts = try await claimContacts(
            kind: .contact, app: "", limit: limit, linger: linger, spacing: .zero, lease: lease, owner: owner, holder: holder)
        guard !attempts.isEmpty else { return [] }
        // The ledger row is looked up with `LEFT JOIN LATERAL (… OFFSET 0)`: one primary-key probe per contact whatever
        // the statistics say (see `claimContacts`).
        let rows = try await client.query(
            """
            SELECT s.contact_id, c.email, c.hubspot_contact_id, c.updated_position, s.desired,
                   COALESCE(d.acknowledged, s.acknowledged), md5(s.desired::text)
            FROM \(table: .syncStatus) s JOIN \(table: .contacts) c ON c.contact_id = s.contact_id
            LEFT JOIN LATERAL (
                SELECT d.acknowledged FROM deliveries d
                WHERE d.destination = \(Destination.hubspot) AND d.object_kind = \(DeliveryKind.contact) AND d.object_key = s.contact_id
                OFFSET 0
            ) d ON true
            WHERE s.destination = \(Destination.hubspot) AND s.app = '' AND s.contact_id = ANY(\(Array(attempts.keys))::text[])
            ORDER BY s.updated_at
            """, name: "delivery.load_hubspot_contacts")
        var contacts: [ClaimedContact] = []
        var found: Set<String> = []
        for row in rows {
            let (id, email, hubSpotID, position, desired, acknowledged, hash) =
                try row.decode((String, String?, String?, Int64, PQJSONB, PQJSONB?, String).self)
            found.insert(id)
            contacts.append(
                ClaimedContact(
                    contactID: id, email: email, hubSpotContactID: hubSpotID, updatedPosition: position,
                    desired: Self.object(desired), acknowledged: acknowledged.map(Self.object) ?? [:], desiredHash: hash,
                    attempts: attempts[id] ?? 0))
        }
        // Merged away between the two statements (a rebuild swap or a merge): nothing to push for these.
        try await forget(.contact, Set(attempts.keys).subtracting(found), owner: owner, holder: holder)
        return contacts
    }

    /// Claims up to `limit` contacts whose `sync_status` row at `kind`'s destination (and OneSignal `app`; `""` for
    /// HubSpot) is pending (or failed, for a retry): the shared part of every contact-level destination. Returns the
    /// claimed contact ids with their failed attempts.
    ///
    /// - `linger`: a contact is claimed once it has not changed for this long (coalescing), and a partial batch only
    ///   once its oldest contact has waited twice as long.
    /// - `spacing`: at least this long between the end of one finished push of a contact and the next claim of it
    ///   (OneSignal allows one write per second per user).
    ///
    /// Each candidate's ledger row is looked up with `LEFT JOIN LATERAL (… OFFSET 0)`: the `OFFSET` keeps the planner
    /// from flattening the subquery, so it is one primary-key probe per candidate whatever the statistics say (a plain
    /// join on tables that grew fast from empty scanned every ledger row of the destination per candidate).
    func claimContacts(
        kind: DeliveryKind, app: String, limit: Int, linger: Duration, spacing: Duration, lease: Duration, owner: String,
        holder: Int64?
    ) async throws -> [String: Int] {
        let destination = kind.destination
        let rule = ClaimRule.dueOrChanged(spacing: spacing)
        let lingered: PQQuery = "(\(fragment: ReadModel.projectedUntil)) - make_interval(secs => \(Self.seconds(linger)))"
        let candidates: PQQuery = """
            WITH eligible AS (
                SELECT * FROM (
                    SELECT s.contact_id, s.updated_at, md5(s.desired::text) AS desired_hash
                    FROM \(table: .syncStatus) s
                    LEFT JOIN LATERAL (
                        SELECT * FROM deliveries d
                        WHERE d.destination = \(destination) AND d.object_kind = \(kind) AND d.object_key = s.contact_id
                        OFFSET 0
                    ) d ON true
                    WHERE s.destination = \(destination) AND s.app = \(app) AND s.state IN ('pending', 'failed')
                      AND s.updated_at <= \(fragment: lingered)
                      AND (d.object_key IS NULL OR \(fragment: rule.allows("d", desiredHash: "md5(s.desired::text)")))
                    UNION ALL
                    -- In sync by the read model, but with a retry due or a dead worker's lease: an earlier attempt's
                    -- outcome is unknown (the destination may hold what it sent), so the desired values go out again.
                    -- A branch of its own, so that both stay index scans (sync_status_state, deliveries_state).
                    SELECT s.contact_id, s.updated_at, md5(s.desired::text)
                    FROM deliveries d
                    JOIN \(table: .syncStatus) s ON s.contact_id = d.object_key AND s.destination = \(destination) AND s.app = \(app)
                    WHERE d.destination = \(destination) AND d.object_kind = \(kind) AND \(fragment: ClaimRule.due.allows("d", desiredHash: ""))
                      AND s.state = 'in_sync'
                      AND s.updated_at <= \(fragment: lingered)
                ) due
                ORDER BY updated_at
                LIMIT \(Int64(limit))
            )
            -- A partial batch waits one more coalescing delay for company: fewer, fuller calls.
            SELECT contact_id AS object_key, desired_hash FROM eligible
            WHERE (SELECT count(*) FROM eligible) >= \(Int64(limit))
               OR (SELECT min(updated_at) FROM eligible)
                  <= (\(fragment: ReadModel.projectedUntil)) - make_interval(secs => \(Self.seconds(linger * 2)))
            """
        // Planned for its values each time: a cached generic plan of this statement was far slower.
        let statement = Self.claimStatement(candidates, kind: kind, rule: rule, lease: lease, owner: owner, holder: holder)
        let claimed = try await claim(statement.planEachTime(), name: "delivery.claim_\(destination)_\(kind)s")
        return Dictionary(claimed.map { ($0.key, $0.attempts) }, uniquingKeysWith: { first, _ in first })
    }

    /// How one claimed object's push ended.
    public enum Outcome: Sendable, Hashable {
        /// The destination holds the desired values (hash) now, and these values (`nil`: not tracked for the kind).
        case done(desiredHash: String, acknowledged: [String: JSONValue]? = nil)
        /// Refused for good: parked as a dead letter for these desired values.
        case dead(desiredHash: String, reason: String)
        /// Failed in a way that can pass: try again after `delay`, counting the attempt.
        case retry(after: Duration, reason: String)
        /// Not attempted (e.g. another object in the batch had the same key): try again soon, not counting it.
        case postpone(after: Duration)
        /// Pushed after an attempt whose outcome was unknown: done, but the desired values go out once more after
        /// `after`, in case the earlier request is applied late (after its timeout) over this one.
        case confirm(after: Duration, desiredHash: String, acknowledged: [String: JSONValue]? = nil)
    }

    /// Records the outcomes of a push and appends its result events in one transaction, so a result is never in the
    /// log without the ledger knowing, nor the other way round. Rows whose lease passed to another worker are left to it.
    ///
    /// - Parameter holder: the ``ClaimHolder`` token the claims were made with (`nil`: none).
    public func finish(
        kind: DeliveryKind, outcomes: [String: Outcome], events: [NewEvent], owner: String, holder: Int64? = nil, store: EventStore
    ) async throws {
        try await client.withTransaction { connection in
            if !events.isEmpty { _ = try await store.append(events, on: connection) }
            try await record(outcomes, kind: kind, owner: owner, holder: holder, on: connection)
        }
    }

    /// Writes outcomes into the ledger rows this worker holds (claimed by `owner` with `holder`; a row another worker
    /// took over after this one's claim lapsed is left alone).
    func record(_ outcomes: [String: Outcome], kind: DeliveryKind, owner: String, holder: Int64?, on connection: PQConnection) async throws {
        guard !outcomes.isEmpty else { return }
        var keys: [String] = []
        var states: [String] = []
        var hashes: [String?] = []
        var delays: [Double] = []
        var counts: [Int32] = []
        var errors: [String?] = []
        var acknowledged: [PQJSONB?] = []
        for (key, outcome) in outcomes {
            keys.append(key)
            switch outcome {
            case .done(_, let values?), .confirm(_, _, let values?):
                acknowledged.append(PQJSONB(bytes: (try? JSONValue.object(values).serialized()) ?? Array("{}".utf8)))
            default:
                acknowledged.append(nil)
            }
            switch outcome {
            case .done(let hash, _):
                states.append("done"); hashes.append(hash); delays.append(0); counts.append(0); errors.append(nil)
            case .dead(let hash, let reason):
                states.append("dead"); hashes.append(hash); delays.append(0); counts.append(1); errors.append(reason)
            case .retry(let delay, let reason):
                states.append("queued"); hashes.append(nil); delays.append(Self.seconds(delay)); counts.append(1)
                errors.append(reason)
            case .postpone(let delay):
                states.append("queued"); hashes.append(nil); delays.append(Self.seconds(delay)); counts.append(0)
                errors.append(nil)
            case .confirm(let delay, let hash, _):
                // attempts = -1 marks the confirmation: it sends every desired value, and its success is final.
                states.append("confirm"); hashes.append(hash); delays.append(Self.seconds(delay)); counts.append(0)
                errors.append(nil)
            }
        }
        try await connection.execute(
            """
            UPDATE deliveries d SET state = CASE WHEN o.state = 'confirm' THEN 'queued' ELSE o.state END,
                desired_hash = COALESCE(o.desired_hash, d.desired_hash),
                attempts = CASE WHEN o.state = 'done' THEN 0 WHEN o.state = 'confirm' THEN -1
                                ELSE greatest(d.attempts, 0) + o.counted END,
                next_attempt_at = now() + make_interval(secs => o.delay),
                leased_until = NULL, lease_owner = NULL,
                last_error = CASE WHEN o.state IN ('done', 'confirm') THEN NULL ELSE COALESCE(o.error, d.last_error) END,
                last_attempt_at = CASE WHEN o.counted > 0 OR o.state IN ('done', 'confirm') THEN now() ELSE d.last_attempt_at END,
                acknowledged = COALESCE(o.acknowledged, d.acknowledged),
                holder = NULL, updated_at = now()
            FROM unnest(\(keys)::text[], \(states)::text[], \(PQNullableArray(hashes))::text[], \(delays)::float8[],
                        \(counts)::int4[], \(PQNullableArray(errors))::text[], \(PQNullableArray(acknowledged))::jsonb[])
                AS o(object_key, state, desired_hash, delay, counted, error, acknowledged)
            WHERE d.destination = \(kind.destination) AND d.object_kind = \(kind) AND d.object_key = o.object_key
              AND d.lease_owner = \(owner) AND d.holder IS NOT DISTINCT FROM \(holder)::int8
            """, name: "delivery.finish")
    }

    /// Makes dead letters (and backed-off retries) of a destination due again now: `hubsignal retry`. `destination` is
    /// `hubspot`, `onesignal` (every app), or `onesignal:<app>` (one app's users); `contactID` narrows it to one
    /// contact; `errorContaining` to dead letters whose last error contains the text.
    @discardableResult
    public func retry(destination: String, contactID: String? = nil, errorContaining: String? = nil) async throws -> Int {
        let parts = destination.split(separator: ":", maxSplits: 1).map(String.init)
        let kind = parts.count == 2 ? DeliveryKind.user(app: parts[1]) : nil
        return try await client.execute(
            """
            UPDATE deliveries SET state = 'queued', attempts = 0, next_attempt_at = now(), desired_hash = NULL,
                updated_at = now()
            WHERE destination = \(parts.first ?? destination) AND (\(kind)::text IS NULL OR object_kind = \(kind))
              AND state IN ('dead', 'queued')
              AND (\(contactID)::text IS NULL OR object_key = \(contactID))
              AND (\(errorContaining)::text IS NULL OR strpos(last_error, \(errorContaining)) > 0)
            """, name: "delivery.retry")
    }

    /// A result event of a sync worker: the payload's type, source `hubsignal`, `metadata` as metadata. The payloads
    /// hold no value JSON cannot write; were encoding to fail, the event would carry `{}` rather than fail the round.
    static func resultEvent<Payload: EventPayload>(
        _ payload: Payload, stream: String, idempotencyKey: String, metadata: [String: JSONValue]
    ) -> NewEvent {
        NewEvent(
            stream: stream, type: Payload.eventType, source: .hubsignal, idempotencyKey: idempotencyKey, occurredAt: Date(),
            payload: PQJSONB(bytes: (try? payload.serialized()) ?? Array("{}".utf8)),
            metadata: PQJSONB(bytes: (try? JSONValue.object(metadata).serialized()) ?? Array("{}".utf8)))
    }

    /// Records a worker's rate-limit budget and last error for `hubsignal status` (`delivery_workers`); a failure to
    /// record is not the push's failure, so it is only returned.
    func recordWorker(destination: Destination, worker: String, budget: [String: JSONValue], error: String?) async -> (any Error)? {
        let json = PQJSONB(bytes: (try? JSONValue.object(budget).serialized()) ?? Array("{}".utf8))
        do {
            try await client.execute(
                """
                INSERT INTO delivery_workers (destination, worker, budget, last_error, last_error_at, heartbeat_at)
                VALUES (\(destination), \(worker), \(json), \(error), CASE WHEN \(error)::text IS NULL THEN NULL ELSE now() END, now())
                ON CONFLICT (destination, worker) DO UPDATE SET budget = EXCLUDED.budget, heartbeat_at = now(),
                    last_error = COALESCE(EXCLUDED.last_error, delivery_workers.last_error),
                    last_error_at = COALESCE(EXCLUDED.last_error_at, delivery_workers.last_error_at)
                """, name: "delivery.worker_status")
            return nil
        } catch {
            return error
        }
    }

    static func object(_ jsonb: PQJSONB) -> [String: JSONValue] {
        (try? JSONValue.parse(jsonb.bytes))?.objectValue ?? [:]
    }

    static func seconds(_ duration: Duration) -> Double {
        let (whole, fraction) = duration.components
        return Double(whole) + Double(fraction) / 1e18
    }
}
