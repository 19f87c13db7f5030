import Domain
import EventStore
import Foundation
import Ingestion
import PQ

/// The `deliveries` table: who pushes which destination object now (leases), what was pushed last (the desired
/// values' hash), retries with backoff, and dead letters.
///
/// Work comes from the read models: a HubSpot contact is due when its `sync_status` row is `pending` (or `failed`
/// with a retry asked for) and no live lease, backoff, finished push of the same desired values, or dead letter for the
/// same values holds it back. Claims are `INSERT … ON CONFLICT DO UPDATE … WHERE <claimable>`: a row being claimed by
/// another process is locked until that claim commits, then re-checked, so two processes never hold one object.
///
/// A claim lasts until the worker records its outcome, its lease expires, or the process holding it is gone: a claim
/// names its holder's ``ClaimHolder`` token, and once the session holding that token's advisory lock ended (the
/// process died, its connection dropped) another worker takes the row over at once (``claimLapsed(_:)``). Claims
/// without a token (`holder: nil`) lapse with their lease only.
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
    /// The ledger row of each candidate is looked up with `LEFT JOIN LATERAL (… OFFSET 0)`: the `OFFSET` keeps the
    /// planner from flattening the subquery, so it is one primary-key probe per candidate whatever the statistics
    /// say. With a plain join, tables that grew fast from empty (statistics not yet gathered by autovacuum) got a
    /// nested loop scanning every ledger row of the destination per candidate: 0.6 s per claim at 3,000 contacts.
    ///
    /// - Parameter holder: the claiming process's ``ClaimHolder`` token; `nil` ties the claims to the lease only.
    public func claimHubSpotContacts(
        limit: Int, linger: Duration, lease: Duration, owner: String, holder: Int64? = nil
    ) async throws -> [ClaimedContact] {
        let attempts = try await claimContacts(
            destination: "hubspot", app: "", kind: "contact", limit: limit, linger: linger, spacing: .zero, lease: lease, owner: owner,
            holder: holder)
        guard !attempts.isEmpty else { return [] }
        let rows = try await client.query(
            """
            SELECT s.contact_id, c.email, c.hubspot_contact_id, c.updated_position, s.desired,
                   COALESCE(d.acknowledged, s.acknowledged), md5(s.desired::text)
            FROM sync_status s JOIN contacts c ON c.contact_id = s.contact_id
            LEFT JOIN LATERAL (
                SELECT d.acknowledged FROM deliveries d
                WHERE d.destination = 'hubspot' AND d.object_kind = 'contact' AND d.object_key = s.contact_id
                OFFSET 0
            ) d ON true
            WHERE s.destination = 'hubspot' AND s.app = '' AND s.contact_id = ANY(\(Array(attempts.keys))::text[])
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
        try await forget(kind: "contact", Set(attempts.keys).subtracting(found), owner: owner, holder: holder)
        return contacts
    }

    /// Claims up to `limit` contacts whose `sync_status` row at `destination` (and OneSignal `app`; `""` for HubSpot) is pending (or failed, for a retry): the
    /// shared part of every contact-level destination. Returns the claimed contact ids with their failed attempts.
    ///
    /// - `linger`: a contact is claimed once it has not changed for this long (coalescing), and a partial batch only
    ///   once its oldest contact has waited twice as long.
    /// - `spacing`: at least this long between the end of one finished push of a contact and the next claim of it
    ///   (OneSignal allows one write per second per user).
    func claimContacts(
        destination: String, app: String, kind: String, limit: Int, linger: Duration, spacing: Duration, lease: Duration, owner: String,
        holder: Int64?
    ) async throws -> [String: Int] {
        // Planned for its values each time: a cached generic plan of this statement was far slower.
        let statement: PQQuery =
            """
            WITH eligible AS (
                SELECT * FROM (
                    SELECT s.contact_id, s.updated_at, md5(s.desired::text) AS desired_hash
                    FROM sync_status s
                    LEFT JOIN LATERAL (
                        SELECT * FROM deliveries d
                        WHERE d.destination = \(destination) AND d.object_kind = \(kind) AND d.object_key = s.contact_id
                        OFFSET 0
                    ) d ON true
                    WHERE s.destination = \(destination) AND s.app = \(app) AND s.state IN ('pending', 'failed')
                      AND s.updated_at <= (\(unsafeRaw: Self.projectedUntil)) - make_interval(secs => \(Self.seconds(linger)))
                      AND (d.object_key IS NULL
                           OR (d.state = 'queued' AND d.next_attempt_at <= now() AND \(unsafeRaw: Self.claimLapsed("d")))
                           OR (d.state IN ('done', 'dead') AND d.desired_hash IS DISTINCT FROM md5(s.desired::text)
                               AND (d.last_attempt_at IS NULL
                                    OR d.last_attempt_at <= now() - make_interval(secs => \(Self.seconds(spacing))))))
                    UNION ALL
                    -- In sync by the read model, but with a retry due or a dead worker's lease: an earlier attempt's
                    -- outcome is unknown (the destination may hold what it sent), so the desired values go out again.
                    -- A branch of its own, so that both stay index scans (sync_status_state, deliveries_state).
                    SELECT s.contact_id, s.updated_at, md5(s.desired::text)
                    FROM deliveries d
                    JOIN sync_status s ON s.contact_id = d.object_key AND s.destination = \(destination) AND s.app = \(app)
                    WHERE d.destination = \(destination) AND d.object_kind = \(kind) AND d.state = 'queued'
                      AND d.next_attempt_at <= now() AND \(unsafeRaw: Self.claimLapsed("d"))
                      AND s.state = 'in_sync'
                      AND s.updated_at <= (\(unsafeRaw: Self.projectedUntil)) - make_interval(secs => \(Self.seconds(linger)))
                ) due
                ORDER BY updated_at
                LIMIT \(Int64(limit))
            ), candidates AS (
                -- A partial batch waits one more coalescing delay for company: fewer, fuller calls.
                SELECT * FROM eligible
                WHERE (SELECT count(*) FROM eligible) >= \(Int64(limit))
                   OR (SELECT min(updated_at) FROM eligible)
                      <= (\(unsafeRaw: Self.projectedUntil)) - make_interval(secs => \(Self.seconds(linger * 2)))
            )
            INSERT INTO deliveries AS d (destination, object_kind, object_key, state, desired_hash, attempts, next_attempt_at,
                leased_until, lease_owner, holder, updated_at)
            SELECT \(destination), \(kind), contact_id, 'queued', desired_hash, 0, now(),
                   now() + make_interval(secs => \(Self.seconds(lease))), \(owner), \(holder)::int8, now()
            FROM candidates
            ON CONFLICT (destination, object_kind, object_key) DO UPDATE
                SET state = 'queued', leased_until = EXCLUDED.leased_until, lease_owner = EXCLUDED.lease_owner,
                    holder = EXCLUDED.holder,
                    -- A lapsed claim (lease expired, holder gone) is an attempt whose worker died: it counts, and its
                    -- outcome is unknown.
                    attempts = CASE WHEN d.state <> 'queued' THEN 0
                                    WHEN d.leased_until IS NOT NULL THEN greatest(d.attempts, 0) + 1 ELSE d.attempts END,
                    updated_at = now()
                WHERE (d.state = 'queued' AND d.next_attempt_at <= now() AND \(unsafeRaw: Self.claimLapsed("d")))
                   OR (d.state IN ('done', 'dead') AND d.desired_hash IS DISTINCT FROM EXCLUDED.desired_hash
                       AND (d.last_attempt_at IS NULL
                            OR d.last_attempt_at <= now() - make_interval(secs => \(Self.seconds(spacing)))))
            RETURNING object_key, attempts
            """
        let claimed = try await client.query(statement.planEachTime(), name: "delivery.claim_\(destination)_\(kind)s")
        var attempts: [String: Int] = [:]
        for row in claimed {
            let (key, count) = try row.decode((String, Int32).self)
            attempts[key] = Int(count)
        }
        return attempts
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
        kind: String, destination: String, outcomes: [String: Outcome], events: [NewEvent], owner: String, holder: Int64? = nil,
        store: EventStore
    ) async throws {
        try await client.withTransaction { connection in
            if !events.isEmpty { _ = try await store.append(events, on: connection) }
            try await record(outcomes, kind: kind, destination: destination, owner: owner, holder: holder, on: connection)
        }
    }

    /// Writes outcomes into the ledger rows this worker holds (claimed by `owner` with `holder`; a row another worker
    /// took over after this one's claim lapsed is left alone).
    func record(
        _ outcomes: [String: Outcome], kind: String, destination: String, owner: String, holder: Int64?, on connection: PQConnection
    ) async throws {
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
            WHERE d.destination = \(destination) AND d.object_kind = \(kind) AND d.object_key = o.object_key
              AND d.lease_owner = \(owner) AND d.holder IS NOT DISTINCT FROM \(holder)::int8
            """, name: "delivery.finish")
    }

    /// Makes dead letters (and backed-off retries) of a destination due again now: `hubsignal retry`. `contactID`
    /// narrows it to one contact; `errorContaining` to dead letters whose last error contains the text.
    @discardableResult
    /// `destination` is `hubspot`, `onesignal` (every app), or `onesignal:<app>` (one app's users).
    public func retry(destination: String, contactID: String? = nil, errorContaining: String? = nil) async throws -> Int {
        let parts = destination.split(separator: ":", maxSplits: 1).map(String.init)
        let kind = parts.count == 2 ? Self.userKind(app: parts[1]) : nil
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

    /// The time up to which the people projection has seen the log: `now()` when it has projected every event; the
    /// time of the last event it projected when fewer than 1,000 wait; and 30 seconds before that while it works
    /// through a larger backlog. A contact counts as unchanged for the coalescing delay only when no *projected*
    /// change is that recent — so a projection catching up on a burst does not make half-applied contacts look
    /// settled (they would be pushed twice), while contacts that have waited half a minute go anyway.
    ///
    /// "Every event" is judged in the readers' order, `(transaction_id, position)`: a projection that has read
    /// everything can hold a checkpoint whose position is below the highest (a transaction that began early appended
    /// last), and judged by position alone it would look behind until the next event arrived — nothing pushed meanwhile.
    /// The backlog's size stays an estimate by position.
    static let projectedUntil = """
        SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM events e WHERE (e.transaction_id, e.position) > (c.transaction_id, c.position))
                        THEN now()
                    WHEN NOT EXISTS (SELECT 1 FROM events e WHERE e.position > c.position + 1000)
                        THEN (SELECT e.occurred_at FROM events e WHERE e.position = c.position)
                    ELSE (SELECT e.occurred_at FROM events e WHERE e.position = c.position) - interval '30 seconds' END
        FROM subscription_checkpoints c WHERE c.name = 'people'
        UNION ALL SELECT now() LIMIT 1
        """

    /// SQL: whether the claim on the `deliveries` row `row` (an alias) has lapsed, so another worker may claim the row:
    /// it has no lease, its lease expired, or the process that held it is gone — the session holding the advisory
    /// lock on its ``ClaimHolder`` token ended (PostgreSQL releases it the moment the process dies or its connection
    /// drops). The one definition every claim statement uses, in its candidates and in its `ON CONFLICT … WHERE`.
    ///
    /// `pg_locks` is readable by every role; a `bigint` advisory key shows as `classid` (high 32 bits) and `objid`
    /// (low 32 bits) with `objsubid` 1. Tokens are positive, so both halves fit an `oid`.
    public static func claimLapsed(_ row: String) -> String {
        """
        (\(row).leased_until IS NULL OR \(row).leased_until < now()
         OR (\(row).holder IS NOT NULL AND NOT EXISTS (
             SELECT 1 FROM pg_catalog.pg_locks l
             WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
               AND l.database = (SELECT db.oid FROM pg_catalog.pg_database db WHERE db.datname = current_database())
               AND l.classid::int8 = (\(row).holder >> 32) AND l.objid::int8 = (\(row).holder & 4294967295))))
        """
    }

    /// A result event of a sync worker (source `hubsignal`), with the worker, the mapping version and `metadata` as
    /// metadata.
    static func resultEvent(
        _ type: EventType, stream: String, idempotencyKey: String, payload: [String: JSONValue], metadata: [String: JSONValue]
    ) -> NewEvent {
        NewEvent(
            stream: stream, type: type, source: .hubsignal, idempotencyKey: idempotencyKey, occurredAt: Date(),
            payload: PQJSONB(bytes: (try? JSONValue.object(payload).serialized()) ?? Array("{}".utf8)),
            metadata: PQJSONB(bytes: (try? JSONValue.object(metadata).serialized()) ?? Array("{}".utf8)))
    }

    /// Records a worker's rate-limit budget and last error for `hubsignal status` (`delivery_workers`); a failure to
    /// record is not the push's failure, so it is only returned.
    func recordWorker(destination: String, worker: String, budget: [String: JSONValue], error: String?) async -> (any Error)? {
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
