import Delivery
import Domain
import EventStore
import Foundation
import HubSpot
import OneSignal
import PQ

/// `hubsignal erase`: removes a person's personal data from HubSignal, and optionally from HubSpot and OneSignal.
///
/// The log's events that name them (streams, and every member `IdentityKeys` lists) are redacted in place through
/// `hubsignal_erase_events` (positions, counts and idempotency keys kept); their rejected messages, outbox, ledger and
/// `sync_status` rows are deleted; `hubsignal.erasure` (ids and counts only) makes the projection delete their
/// read-model rows. The events are found through indexes (`events_mentions`, migration 0022, and the stream index),
/// so an erasure's cost follows the person's events, not the log's size.
public struct Erasure: Sendable {
    /// Who to erase.
    public enum Person: Sendable {
        case email(String)
        case userID(String)
        case contactID(String)
        /// The contact HubSpot knows by this id (a privacy-deletion webhook).
        case hubSpotID(String)
    }

    /// What an erasure did.
    public struct Report: Sendable, Equatable {
        public var erasureID: String
        public var contactIDs: [String]
        /// Events redacted in the log.
        public var events: Int
        /// Rejected messages, outbox and ledger rows deleted.
        public var otherRows: Int
        /// Where the deletion was forwarded (`hubspot`, `onesignal:<app>`).
        public var forwarded: [String]
        /// Destinations asked for that HubSignal could not forward to: it knew no id of the person there (no HubSpot id
        /// nor email; no external id or email for a OneSignal app).
        public var notForwarded: [String] = []
    }

    let client: PQClient
    let store: EventStore

    public init(client: PQClient, store: EventStore) {
        self.client = client
        self.store = store
    }

    /// The person's identities, as the read models know them.
    struct Identities {
        var contactIDs: [String] = []
        var userIDs: [String] = []
        var anonymousIDs: [String] = []
        var emails: [String] = []
        var hubSpotIDs: [String] = []
        var oneSignalIDs: [String] = []

        /// As the generated SQL compares them (a OneSignal external id is a userId, or an email).
        var predicate: IdentityPredicate.Identities {
            IdentityPredicate.Identities(
                userIDs: userIDs, anonymousIDs: anonymousIDs, emails: emails, hubSpotIDs: hubSpotIDs, oneSignalIDs: oneSignalIDs,
                contactIDs: contactIDs, externalIDs: userIDs)
        }
    }

    /// The contacts and identities of a person (merged contacts included); empty when HubSignal does not know them.
    func identities(of person: Person) async throws -> Identities {
        let seed: [String]
        switch person {
        case .contactID(let id):
            seed = [id]
        case .email(let email):
            // An email HubSignal could not have stored as an identity names nobody.
            if let email = IdentityKeys.normalizedEmail(email) { seed = try await contacts(.email, value: email) } else { seed = [] }
        case .userID(let id):
            seed = try await contacts(.userID, value: id)
        case .hubSpotID(let id):
            seed = try await contacts(.hubSpotID, value: id)
        }
        guard !seed.isEmpty else { return Identities() }
        // The contacts merged into these, and the ones these were merged into.
        let rows = try await client.query(
            """
            WITH RECURSIVE family(id) AS (
                SELECT x COLLATE "C" FROM unnest(\(seed)::text[]) x
                UNION
                SELECT CASE WHEN m.into_contact_id = f.id THEN m.merged_contact_id ELSE m.into_contact_id END
                FROM contact_merges m JOIN family f ON m.into_contact_id = f.id OR m.merged_contact_id = f.id
            )
            SELECT \(IdentityKeys.Name.contactID.rawValue), id FROM family
            UNION ALL SELECT i.kind, i.value FROM identities i WHERE i.contact_id IN (SELECT id FROM family)
            UNION ALL SELECT \(IdentityKeys.Name.hubSpotID.rawValue), c.hubspot_contact_id FROM contacts c
                WHERE c.contact_id IN (SELECT id FROM family) AND c.hubspot_contact_id IS NOT NULL
            UNION ALL SELECT \(IdentityKeys.Name.oneSignalID.rawValue), c.onesignal_id FROM contacts c
                WHERE c.contact_id IN (SELECT id FROM family) AND c.onesignal_id IS NOT NULL
            """, name: "erase.identities")
        var found = Identities()
        for row in rows {
            let (kind, value) = try row.decode((String, String).self)
            switch IdentityKeys.Name(rawValue: kind) {
            case .contactID: found.contactIDs.append(value)
            case .userID: found.userIDs.append(value)
            case .anonymousID: found.anonymousIDs.append(value)
            case .email: found.emails.append(value)
            case .hubSpotID: found.hubSpotIDs.append(value)
            case .oneSignalID: found.oneSignalIDs.append(value)
            case .previousID, .externalID, .groupID, nil: break
            }
        }
        func unique(_ values: [String]) -> [String] { Array(Set(values)).sorted() }
        return Identities(
            contactIDs: unique(found.contactIDs), userIDs: unique(found.userIDs), anonymousIDs: unique(found.anonymousIDs),
            emails: unique(found.emails), hubSpotIDs: unique(found.hubSpotIDs), oneSignalIDs: unique(found.oneSignalIDs))
    }

    private func contacts(_ kind: IdentityKeys.Name, value: String) async throws -> [String] {
        try await client.query(
            "SELECT contact_id FROM identities WHERE kind = \(kind.rawValue) AND value = \(value)", name: "erase.resolve")
            .map { try $0.decode(String.self, at: 0) }
    }

    /// Erases the person; with `hubSpot` and `oneSignal`, also deletes them there (by HubSpot id and email; by external
    /// id, or email when the app matches users by email).
    ///
    /// Complete, not a snapshot: after its transaction commits it waits until every transaction running meanwhile has
    /// ended and every sync worker's claim on the person's work has been recorded or has lapsed, then erases what those
    /// appended too. A later, new event about the same person starts a new contact. Its statements run without the
    /// pool's `statement_timeout` (while migration 0022 is pending, or its index is being built, a scan reads the log).
    ///
    /// - Throws: `ErasureError` when HubSignal knows no such person (`isUnknownPerson`), or when work about them is still
    ///   running after `settleTimeout`.
    public func erase(
        _ person: Person, hubSpot: HubSpotClient? = nil, oneSignal: [(app: String, client: OneSignalClient, byEmail: Bool)] = [],
        settleTimeout: Duration = .seconds(300)
    ) async throws -> Report {
        // Partitions archived in the database hold events too and cannot be redacted where they are (docs/operations.md,
        // "Archiving the log"): refused until they are restored.
        let archived = try await Archive.keptInDatabase(client: client)
        guard archived.isEmpty else {
            throw ErasureError(
                "\(archived.count) partition(s) of the log are archived in the database (\(archived.prefix(5).joined(separator: ", "))) "
                    + "and erasure cannot reach them: restore them (hubsignal archive --restore --all), erase, then archive again")
        }
        return try await PQClient.withStatementTimeout(.zero) {
            try await eraseUnbounded(person, hubSpot: hubSpot, oneSignal: oneSignal, settleTimeout: settleTimeout)
        }
    }

    private func eraseUnbounded(
        _ person: Person, hubSpot: HubSpotClient?, oneSignal: [(app: String, client: OneSignalClient, byEmail: Bool)],
        settleTimeout: Duration
    ) async throws -> Report {
        let found = try await identities(of: person)
        guard !found.contactIDs.isEmpty else {
            var cleared = 0
            if case .hubSpotID(let id) = person {
                // A privacy deletion whose erasure committed but did not settle: nothing is left to erase.
                cleared = try await client.execute(
                    "DELETE FROM erasure_failures WHERE hubspot_object_id = \(id)", name: "erase.clear_failures")
            }
            throw ErasureError(
                "HubSignal knows no contact with that \(Self.describe(person))"
                    + (cleared > 0 ? " (already erased; its privacy-deletion dead letter is cleared)" : ""),
                isUnknownPerson: true)
        }
        let erasureID = UUID().uuidString.lowercased()
        var sweep = Sweep(erasureID: erasureID, identities: found)
        let erasureTransaction = try await client.withTransaction { connection -> UInt64 in
            try await sweep.run(before: nil, on: connection)
            let erased = PersonErased(erasureID: erasureID, contactIDs: found.contactIDs, events: sweep.events)
            _ = try await store.append(
                [try NewEvent(erased, stream: "erasure:\(erasureID)", idempotencyKey: "erasure:\(erasureID)")], on: connection)
            let current = try await connection.query("SELECT pg_current_xact_id()::text", name: "erase.transaction")[0]
                .decode(String.self, at: 0)
            guard let transaction = UInt64(current) else { throw ErasureError("unexpected transaction id \(current)") }
            return transaction
        }
        try await settle(after: erasureTransaction, claims: sweep.claimed, timeout: settleTimeout)
        while true {
            let before = (sweep.events, sweep.otherRows)
            try await client.withTransaction { connection in try await sweep.run(before: erasureTransaction, on: connection) }
            if (sweep.events, sweep.otherRows) == before { break }
        }
        let events = sweep.events
        let otherRows = sweep.otherRows
        // Forwarding happens after HubSignal's own erasure is committed; a failure here leaves that done and says so.
        var forwarded: [String] = []
        var notForwarded: [String] = []
        if let hubSpot {
            let retryAfter: (any Error) -> Duration? = { error in
                (error as? HubSpotError).flatMap { $0.isRetryable ? ($0.retryAfter ?? .seconds(1)) : nil }
            }
            for id in found.hubSpotIDs {
                try await Self.retrying({ try await hubSpot.gdprDeleteContact(hubSpotID: id) }, retryAfter: retryAfter)
            }
            for email in found.emails {
                try await Self.retrying({ try await hubSpot.gdprDeleteContact(email: email) }, retryAfter: retryAfter)
            }
            if found.hubSpotIDs.isEmpty && found.emails.isEmpty {
                notForwarded.append(Destination.hubspot.rawValue)
            } else {
                forwarded.append(Destination.hubspot.rawValue)
            }
        }
        for (app, client, byEmail) in oneSignal {
            let ids = byEmail ? found.emails : found.userIDs
            for id in ids {
                try await Self.retrying { try await client.deleteUser(.externalID(id)) } retryAfter: { error in
                    (error as? OneSignalError).flatMap { $0.isRetryable ? ($0.retryAfter ?? .seconds(1)) : nil }
                }
            }
            let destination = "\(Destination.onesignal):\(app)"
            if ids.isEmpty { notForwarded.append(destination) } else { forwarded.append(destination) }
        }
        return Report(
            erasureID: erasureID, contactIDs: found.contactIDs, events: events, otherRows: otherRows, forwarded: forwarded,
            notForwarded: notForwarded)
    }

    /// Waits until every transaction that was running when the erasure committed has ended (the read horizon,
    /// `pg_snapshot_xmin`, passed the erasure's transaction) and every ledger row a worker held a live claim on has been
    /// recorded or its claim has lapsed (lease expired, or the holding process gone: `DeliveryLedger.claimLapsed`), so
    /// that the final sweep sees whatever they appended.
    func settle(after transaction: UInt64, claims: Set<ClaimedRow>, timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        let kinds = claims.map(\.kind)
        let keys = claims.map(\.key)
        while true {
            let rows = try await client.query(
                """
                SELECT pg_snapshot_xmin(pg_current_snapshot()) > \(String(transaction))::xid8,
                       NOT EXISTS (SELECT 1 FROM deliveries d
                                   JOIN unnest(\(kinds)::text[], \(keys)::text[]) AS c(kind, key)
                                     ON d.object_kind = c.kind AND d.object_key = c.key
                                   WHERE NOT \(unsafeRaw: DeliveryLedger.claimLapsed("d")))
                """, name: "erase.settled")
            let (horizonPassed, claimsEnded) = try rows[0].decode((Bool, Bool).self)
            if horizonPassed && claimsEnded { return }
            guard ContinuousClock.now < deadline else {
                throw ErasureError(
                    "the erasure is committed, but "
                        + (horizonPassed ? "a sync worker still holds work about the person" : "a transaction that began before it is still running")
                        + " after \(timeout); what it appends later about them is not erased")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// A ledger row (`deliveries`) a sync worker held a live claim on when the erasure ran.
    struct ClaimedRow: Hashable, Sendable {
        var kind: String
        var key: String
    }

    /// One erasure's passes over the log and the tables derived from it: what it erased so far.
    struct Sweep {
        let erasureID: String
        let identities: Identities
        /// Erased events' positions and, of erased workflow actions, their callback ids (the notification ledger's keys).
        var positions: [Int64] = []
        var callbackIDs: [String] = []
        var events = 0
        var otherRows = 0
        /// Ledger rows left alone because a worker held them: the erasure waits for them and deletes them afterwards.
        var claimed: Set<ClaimedRow> = []
        /// A snapshot (`pg_snapshot` text) taken before the last scan: every event it shows has been scanned, so later
        /// scans look only at the events it does not show. `nil`: none yet (the first scan looks at every event).
        var scanned: String?
        /// Positions erased by the last pass whose results (HubSignal's events naming them, appended after them) have not
        /// been looked for yet.
        var unchecked: [Int64] = []

        init(erasureID: String, identities: Identities) {
            self.erasureID = erasureID
            self.identities = identities
        }

        /// The statement that finds the events to erase: those that name the person (identities only in events ordered
        /// before `transaction`, `nil`: all), their contacts, or an erased position, among the events the last scan did
        /// not see. `indexed` (migration 0022 applied): the candidates come from the `events_mentions` GIN index and the
        /// stream index, and the exact predicate checks them; otherwise it reads the whole log. Planned for its values
        /// each time (the index's selectivity depends on them).
        func findEvents(before transaction: UInt64?, indexed: Bool) -> PQQuery {
            let found = identities
            let bound = String(transaction ?? UInt64.max)
            let mentioned = IdentityPredicate.mentions(in: "payload", found.predicate)
            let streams = found.predicate.streams
            let contactStreams = found.contactIDs.map { "contact:" + $0 }
            let hubsignal = EventSource.hubsignal.rawValue
            let erased = positions.map(String.init)
            let resultsToCheck = unchecked.map(String.init)
            // Every branch below is an event on one of `streams` (contact streams included) or one whose mentions share
            // a key with the identities or the erased positions (`unchecked` are among them).
            let candidates: PQQuery =
                indexed
                ? "(stream = ANY(\(streams)::text[]) OR \(fragment: IdentityPredicate.mayMention(found.predicate, positions: positions))) AND"
                : ""
            let query: PQQuery = """
                SELECT position, CASE WHEN starts_with(type, \(EventType.Family.hubSpotAction.prefix)) THEN idempotency_key END
                FROM events
                WHERE \(fragment: candidates) NOT starts_with(stream, 'erased:') AND type <> \(EventType.erasure.rawValue)
                  AND (((\(scanned)::text IS NULL
                         OR (transaction_id >= pg_snapshot_xmin(\(scanned)::text::pg_snapshot)
                             AND NOT pg_visible_in_snapshot(transaction_id, \(scanned)::text::pg_snapshot)))
                        AND ((transaction_id < \(bound)::xid8 AND (stream = ANY(\(streams)::text[]) OR \(fragment: mentioned)))
                             OR stream = ANY(\(contactStreams)::text[]) OR payload->>'contactId' = ANY(\(found.contactIDs)::text[])
                             OR (source = \(hubsignal) AND payload->>'position' = ANY(\(erased)::text[]))))
                       OR (position > \(unchecked.min() ?? Int64.max)::bigint AND source = \(hubsignal)
                           AND payload->>'position' = ANY(\(resultsToCheck)::text[])))
                """
            return query.planEachTime()
        }

        /// Erases, on `connection` (in its transaction), the events that name the person until a scan finds none, then
        /// the rows of other tables about them. `before`: identities count only in events ordered before that
        /// transaction (`nil`: all); contact ids and erased positions count in any event.
        mutating func run(before transaction: UInt64?, on connection: PQConnection) async throws {
            let found = identities
            // With bound parameters logged on errors, PostgreSQL adds them to the call stack as its outermost line, and
            // the append-only trigger (which wants hubsignal_erase_events outermost) would refuse the erasure.
            try await connection.execute("SET LOCAL log_parameter_max_length_on_error = 0", name: "erase.no_parameter_context")
            let indexed = try await connection.query(
                "SELECT to_regprocedure('hubsignal_mention_keys(text[],bigint[])') IS NOT NULL", name: "erase.indexed")[0]
                .decode(Bool.self, at: 0)
            // Identities that, contained in an idempotency key, make the key personal (too short ones would match anything).
            let names = (found.userIDs + found.anonymousIDs + found.emails + found.hubSpotIDs + found.oneSignalIDs).filter { $0.count >= 4 }
            while true {
                let snapshot = try await connection.query("SELECT pg_current_snapshot()::text", name: "erase.snapshot")[0]
                    .decode(String.self, at: 0)
                let rows = try await connection.query(findEvents(before: transaction, indexed: indexed), name: "erase.find_events")
                scanned = snapshot
                unchecked = []
                var matched: [Int64] = []
                for row in rows {
                    let (position, callbackID) = try row.decode((Int64, String?).self)
                    matched.append(position)
                    if let callbackID { callbackIDs.append(callbackID) }
                }
                guard !matched.isEmpty else { break }
                positions += matched
                unchecked = matched
                events += Int(
                    try await connection.query(
                        "SELECT hubsignal_erase_events(\(matched)::bigint[], \(erasureID), \(names)::text[])", name: "erase.events")[0]
                        .decode(Int64.self, at: 0))
            }
            otherRows += try await connection.execute(
                "DELETE FROM rejections WHERE \(fragment: IdentityPredicate.mentions(in: "message", found.predicate))", name: "erase.rejections")
            otherRows += try await connection.execute(
                """
                DELETE FROM hubspot_event_outbox
                WHERE user_id = ANY(\(found.userIDs)::text[]) OR anonymous_id = ANY(\(found.anonymousIDs)::text[])
                   OR email = ANY(\(found.emails)::text[]) OR position = ANY(\(positions)::bigint[])
                """, name: "erase.hubspot_outbox")
            otherRows += try await connection.execute(
                """
                DELETE FROM onesignal_outbox
                WHERE hubspot_object_id = ANY(\(found.hubSpotIDs)::text[]) OR external_id = ANY(\(found.userIDs + found.emails)::text[])
                   OR email = ANY(\(found.emails)::text[]) OR position = ANY(\(positions)::bigint[])
                   OR callback_id = ANY(\(callbackIDs)::text[])
                """, name: "erase.onesignal_outbox")
            // A privacy deletion that failed earlier for this person is done now.
            otherRows += try await connection.execute(
                "DELETE FROM erasure_failures WHERE hubspot_object_id = ANY(\(found.hubSpotIDs)::text[])", name: "erase.failures")
            // Without their sync_status rows the contacts cannot be claimed again before the projection applies the erasure.
            otherRows += try await connection.execute(
                "DELETE FROM sync_status WHERE contact_id = ANY(\(found.contactIDs)::text[])", name: "erase.sync_status")
            // The person's ledger rows: their contacts (every destination and app), their events and custom object
            // records (keyed by position, or position:rule), their workflow notifications (keyed by callback id). The
            // ones a worker holds are left to it until it has recorded its outcome (its result events are erased then).
            let contactIDs = found.contactIDs
            let eventKeys = positions.map(String.init)
            // One statement finds them, deletes the free ones and returns the held ones (and the count deleted).
            let rows = try await connection.query(
                """
                WITH person AS (
                    SELECT d.destination, d.object_kind, d.object_key, \(unsafeRaw: DeliveryLedger.claimLapsed("d")) AS lapsed
                    FROM deliveries d
                    WHERE d.object_key = ANY(\(contactIDs)::text[])
                       OR (d.object_kind = \(DeliveryKind.event.rawValue) AND split_part(d.object_key, ':', 1) = ANY(\(eventKeys)::text[]))
                       OR (d.object_kind = \(DeliveryKind.notification.rawValue) AND d.object_key = ANY(\(callbackIDs)::text[]))
                ), deleted AS (
                    -- The claim is judged again on the row itself, so one taken meanwhile is not deleted.
                    DELETE FROM deliveries d USING person p
                    WHERE d.destination = p.destination AND d.object_kind = p.object_kind AND d.object_key = p.object_key
                      AND \(unsafeRaw: DeliveryLedger.claimLapsed("d"))
                    RETURNING 1
                )
                SELECT object_kind, object_key, 0::bigint FROM person WHERE NOT lapsed
                UNION ALL SELECT NULL, NULL, count(*) FROM deleted
                """, name: "erase.deliveries")
            for row in rows {
                let (kind, key, deleted) = try row.decode((String?, String?, Int64).self)
                if let kind, let key {
                    claimed.insert(ClaimedRow(kind: kind, key: key))
                } else {
                    otherRows += Int(deleted)
                }
            }
        }
    }

    /// Runs `body` up to five times while `retryAfter` says the error can pass (rate limits, 5xx, timeouts), waiting
    /// as long as it says.
    static func retrying(
        _ body: () async throws -> Void, retryAfter: (any Error) -> Duration?
    ) async throws {
        for attempt in 1...5 {
            do {
                return try await body()
            } catch {
                guard attempt < 5, let delay = retryAfter(error) else { throw error }
                try await Task.sleep(for: delay)
            }
        }
    }

    static func describe(_ person: Person) -> String {
        switch person {
        case .email: return "email"
        case .userID: return "userId"
        case .contactID: return "contact id"
        case .hubSpotID: return "HubSpot id"
        }
    }
}

/// An erasure that cannot be done as asked.
public struct ErasureError: Error, CustomStringConvertible {
    public var description: String
    /// HubSignal knows no such person (nothing to erase).
    public var isUnknownPerson: Bool
    init(_ description: String, isUnknownPerson: Bool = false) {
        self.description = description
        self.isUnknownPerson = isUnknownPerson
    }
}
