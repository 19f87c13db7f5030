import PQ

/// What the sync workers' SQL may rely on of the people projection's read models: their table names and how far the
/// projection has read the log. Renaming a table or the projection changes these, and the compiler finds every reader.
public enum ReadModel {
    /// A read-model table, named in SQL as `\(table: .contacts)`.
    public enum Table: String, Sendable, CaseIterable {
        case identities
        case contacts
        case companies
        case companyIdentities = "company_identities"
        case contactCompanies = "contact_companies"
        case audienceMemberships = "audience_memberships"
        case syncStatus = "sync_status"
    }

    /// SQL (one value, `timestamptz`): the time up to which the people projection has seen the log. `now()` when it has
    /// projected every event (and when it has no checkpoint yet); the time of the last event it projected when fewer
    /// than 1,000 wait; 30 seconds before that while it works through a larger backlog.
    ///
    /// A contact counts as unchanged for a coalescing delay only when no *projected* change is that recent: a
    /// projection catching up on a burst does not make half-applied contacts look settled (they would be pushed twice),
    /// while contacts that have waited half a minute go anyway. "Every event" is judged in the readers' order,
    /// `(transaction_id, position)` (a checkpoint's position can be below the highest read); the backlog's size is an
    /// estimate by position.
    public static var projectedUntil: PQQuery {
        """
        SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM events e WHERE (e.transaction_id, e.position) > (c.transaction_id, c.position))
                        THEN now()
                    WHEN NOT EXISTS (SELECT 1 FROM events e WHERE e.position > c.position + 1000)
                        THEN (SELECT e.occurred_at FROM events e WHERE e.position = c.position)
                    ELSE (SELECT e.occurred_at FROM events e WHERE e.position = c.position) - interval '30 seconds' END
        FROM subscription_checkpoints c WHERE c.name = \(PeopleProjection.name)
        UNION ALL SELECT now() LIMIT 1
        """
    }

    /// SQL (a `boolean`): whether the people projection has read the event at `position`, i.e. that event is at or
    /// before its checkpoint in the readers' order, `(transaction_id, position)` — a checkpoint's position can be below
    /// that of an event already read, when that event's transaction began earlier.
    public static func hasProjected(position: Int64) -> PQQuery {
        """
        EXISTS (SELECT 1 FROM events e, subscription_checkpoints c
                WHERE c.name = \(PeopleProjection.name) AND e.position = \(position)
                  AND (e.transaction_id, e.position) <= (c.transaction_id, c.position))
        """
    }
}

extension PQQuery.StringInterpolation {
    /// Appends a read-model table's name (trusted text: the names are constants).
    public mutating func appendInterpolation(table: ReadModel.Table) {
        appendInterpolation(unsafeRaw: table.rawValue)
    }
}
