import PQ

extension DeliveryLedger {
    /// Which existing ledger rows a claim may take (an object without a row is always claimable).
    public enum ClaimRule: Sendable, Hashable {
        /// Queued rows whose next attempt is due and whose claim lapsed: work done once (events, notifications,
        /// segments).
        case due
        /// Those, and finished rows (done or dead) whose desired values changed since: objects kept in sync. With a
        /// `spacing`, a finished row only once that long has passed since its last attempt.
        case dueOrChanged(spacing: Duration? = nil)

        /// SQL: whether the ledger row `row` (an alias) may be claimed for desired values whose md5 is the SQL
        /// expression `desiredHash` (unused by ``due``). Candidate queries and the claim's `ON CONFLICT` both use it.
        public func allows(_ row: String, desiredHash: String) -> PQQuery {
            let due: PQQuery =
                "(\(unsafeRaw: row).state = 'queued' AND \(unsafeRaw: row).next_attempt_at <= now() AND \(unsafeRaw: DeliveryLedger.claimLapsed(row)))"
            switch self {
            case .due:
                return due
            case .dueOrChanged(nil):
                return """
                    (\(fragment: due)
                     OR (\(unsafeRaw: row).state IN ('done', 'dead') AND \(unsafeRaw: row).desired_hash IS DISTINCT FROM \(unsafeRaw: desiredHash)))
                    """
            case .dueOrChanged(let spacing?):
                return """
                    (\(fragment: due)
                     OR (\(unsafeRaw: row).state IN ('done', 'dead') AND \(unsafeRaw: row).desired_hash IS DISTINCT FROM \(unsafeRaw: desiredHash)
                         AND (\(unsafeRaw: row).last_attempt_at IS NULL
                              OR \(unsafeRaw: row).last_attempt_at <= now() - make_interval(secs => \(DeliveryLedger.seconds(spacing))))))
                    """
            }
        }

        /// Whether the rule compares desired values (the candidates then yield a `desired_hash`).
        var comparesValues: Bool {
            if case .dueOrChanged = self { return true }
            return false
        }
    }

    /// The statement that claims the objects `candidates` yields, for `lease`, in the name of `owner` and `holder`:
    /// `WITH candidates AS (<candidates>), claimed AS (INSERT INTO deliveries … ON CONFLICT … DO UPDATE … WHERE <rule>
    /// RETURNING object_key, attempts) <select>`.
    ///
    /// `candidates` yields `object_key` (and `desired_hash` with ``ClaimRule/dueOrChanged(spacing:)``), judged by the
    /// same `rule` against the ledger row as it read it (``ClaimRule/allows(_:desiredHash:)``). A row another process
    /// is claiming is locked until that claim commits and then judged again by `rule`, so two processes never hold one
    /// object. Taking over a lapsed claim counts as an attempt (its worker died; its outcome is unknown); a finished
    /// row claimed again for changed values starts from zero attempts.
    ///
    /// - Parameters:
    ///   - select: what the statement returns, reading `claimed (object_key, attempts)` and `candidates`.
    ///   - holder: the claiming process's ``ClaimHolder`` token; `nil` ties the claims to the lease only.
    static func claimStatement(
        _ candidates: PQQuery, kind: DeliveryKind, rule: ClaimRule, lease: Duration, owner: String, holder: Int64?,
        select: PQQuery = "SELECT object_key, attempts FROM claimed"
    ) -> PQQuery {
        """
        WITH candidates AS (
        \(fragment: candidates)
        ), claimed AS (
            INSERT INTO deliveries AS d (destination, object_kind, object_key, state, desired_hash, attempts, next_attempt_at,
                leased_until, lease_owner, holder, updated_at)
            SELECT \(kind.destination), \(kind), object_key, 'queued', \(unsafeRaw: rule.comparesValues ? "desired_hash" : "NULL"), 0, now(),
                   now() + make_interval(secs => \(seconds(lease))), \(owner), \(holder)::int8, now()
            FROM candidates
            ON CONFLICT (destination, object_kind, object_key) DO UPDATE
                SET state = 'queued', leased_until = EXCLUDED.leased_until, lease_owner = EXCLUDED.lease_owner,
                    holder = EXCLUDED.holder,
                    attempts = CASE WHEN d.state <> 'queued' THEN 0
                                    WHEN d.leased_until IS NOT NULL THEN greatest(d.attempts, 0) + 1 ELSE d.attempts END,
                    updated_at = now()
                WHERE \(fragment: rule.allows("d", desiredHash: "EXCLUDED.desired_hash"))
            RETURNING object_key, attempts
        )
        \(fragment: select)
        """
    }

    /// Runs a `claimStatement(_:kind:rule:lease:owner:holder:select:)` returning `(object_key, attempts)`: the
    /// claimed keys with their failed attempts so far, in the order claimed.
    func claim(_ statement: PQQuery, name: String) async throws -> [(key: String, attempts: Int)] {
        try await client.query(statement, name: name).map { row in
            let (key, attempts) = try row.decode((String, Int32).self)
            return (key, Int(attempts))
        }
    }

    /// SQL: whether the claim on the `deliveries` row `row` (an alias) has lapsed, so another worker may claim the row:
    /// it has no lease, its lease expired, or the process that held it is gone — the session holding the advisory
    /// lock on its ``ClaimHolder`` token ended (PostgreSQL releases it the moment the process dies or its connection
    /// drops). Every claim rule uses it.
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
}
