import EventStore
import Foundation
import HubSpot
import Ingestion
import OneSignal
import PQ

/// `hubsignal erase`: removes a person's personal data from HubSignal — the log's events about them (redacted in
/// place through `hubsignal_erase_events`, positions and counts intact), rejected messages, queued outbox rows and
/// ledger rows that name them — and records `hubsignal.erasure` (`erasureId`, `contactIds`, `events`: opaque ids and
/// counts only), which makes the people projection delete the read-model rows (contacts, identities, audiences,
/// company links, devices, message activity, sync status, merges). Optionally forwards the deletion to HubSpot (GDPR
/// delete by email) and OneSignal (delete user by external id).
///
/// Finding the person's events takes one scan of the log (an administrative operation, not a hot path): events whose
/// stream is one of theirs, or whose payload names one of their identities (userId, anonymousId, previousId, email in
/// traits or context.traits, HubSpot object id, OneSignal external or user id) or their contact ids. An event about
/// them and someone else (a group call) is redacted whole.
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

        var streams: [String] {
            userIDs.map { "user:" + $0 } + anonymousIDs.map { "user:" + $0 } + anonymousIDs.map { "anonymous:" + $0 }
                + contactIDs.map { "contact:" + $0 } + hubSpotIDs.map { "hubspot-contact:" + $0 }
                + oneSignalIDs.map { "onesignal-user:" + $0 } + emails.map { "user:" + $0 }
        }
    }

    /// The contacts and identities of a person (merged contacts included); empty when HubSignal does not know them.
    func identities(of person: Person) async throws -> Identities {
        let seed: [String]
        switch person {
        case .contactID(let id):
            seed = [id]
        case .email(let email):
            seed = try await contacts(kind: "email", value: email.trimmingCharacters(in: .whitespaces).lowercased())
        case .userID(let id):
            seed = try await contacts(kind: "user_id", value: id)
        case .hubSpotID(let id):
            seed = try await contacts(kind: "hubspot_id", value: id)
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
            SELECT 'contact', id FROM family
            UNION ALL SELECT i.kind, i.value FROM identities i WHERE i.contact_id IN (SELECT id FROM family)
            UNION ALL SELECT 'hubspot_id', c.hubspot_contact_id FROM contacts c WHERE c.contact_id IN (SELECT id FROM family)
                AND c.hubspot_contact_id IS NOT NULL
            UNION ALL SELECT 'onesignal_id', c.onesignal_id FROM contacts c WHERE c.contact_id IN (SELECT id FROM family)
                AND c.onesignal_id IS NOT NULL
            """, name: "erase.identities")
        var found = Identities()
        for row in rows {
            let (kind, value) = try row.decode((String, String).self)
            switch kind {
            case "contact": found.contactIDs.append(value)
            case "user_id": found.userIDs.append(value)
            case "anonymous_id": found.anonymousIDs.append(value)
            case "email": found.emails.append(value)
            case "hubspot_id": found.hubSpotIDs.append(value)
            case "onesignal_id": found.oneSignalIDs.append(value)
            default: break
            }
        }
        func unique(_ values: [String]) -> [String] { Array(Set(values)).sorted() }
        return Identities(
            contactIDs: unique(found.contactIDs), userIDs: unique(found.userIDs), anonymousIDs: unique(found.anonymousIDs),
            emails: unique(found.emails), hubSpotIDs: unique(found.hubSpotIDs), oneSignalIDs: unique(found.oneSignalIDs))
    }

    private func contacts(kind: String, value: String) async throws -> [String] {
        try await client.query(
            "SELECT contact_id FROM identities WHERE kind = \(kind) AND value = \(value)", name: "erase.resolve")
            .map { try $0.decode(String.self, at: 0) }
    }

    /// The SQL condition "this JSON document (`column`) names the person" (trusted text: the column name is ours; the
    /// identities are bind parameters $1…$6).
    static func mentions(_ column: String) -> String {
        """
        (\(column)->>'userId' = ANY($1) OR \(column)->>'anonymousId' = ANY($2) OR \(column)->>'previousId' = ANY($1 || $2)
         OR lower(\(column)->'traits'->>'email') = ANY($3) OR lower(\(column)->'context'->'traits'->>'email') = ANY($3)
         OR lower(\(column)->'properties'->>'email') = ANY($3)
         OR \(column)->>'contactId' = ANY($4)
         OR \(column)->>'objectId' = ANY($5) OR \(column)->'object'->>'objectId' = ANY($5) OR \(column)->>'hubspotObjectId' = ANY($5)
         OR \(column)->>'external_id' = ANY($1 || $3) OR \(column)->>'externalId' = ANY($1 || $3)
         OR \(column)->>'event.external_id' = ANY($1 || $3) OR \(column)->'event'->>'external_id' = ANY($1 || $3)
         OR \(column)->>'onesignal_id' = ANY($6) OR \(column)->>'event.onesignal_id' = ANY($6)
         OR \(column)->'event'->>'onesignal_id' = ANY($6))
        """
    }

    /// Erases the person. `forward` also deletes them at HubSpot (by email) and at each OneSignal app (by external id).
    /// Throws `ErasureError.unknown` when HubSignal knows no such person.
    public func erase(
        _ person: Person, hubSpot: HubSpotClient? = nil, oneSignal: [(app: String, client: OneSignalClient, byEmail: Bool)] = []
    ) async throws -> Report {
        let found = try await identities(of: person)
        guard !found.contactIDs.isEmpty else { throw ErasureError("HubSignal knows no contact with that \(Self.describe(person))") }
        let erasureID = UUID().uuidString.lowercased()
        // $1 user ids, $2 anonymous ids, $3 emails, $4 contact ids, $5 HubSpot ids, $6 OneSignal ids, $7 streams.
        let parameters = [
            found.userIDs, found.anonymousIDs, found.emails, found.contactIDs, found.hubSpotIDs, found.oneSignalIDs, found.streams,
        ].map(\.pqParameter)
        // The person's events: one scan of the log.
        let positions = try await client.query(
            PQQuery(
                unsafeSQL: """
                    SELECT position FROM events
                    WHERE NOT starts_with(stream, 'erased:') AND (stream = ANY($7) OR \(Self.mentions("payload")))
                    """, parameters: parameters), name: "erase.find_events"
        ).map { try $0.decode(Int64.self, at: 0) }
        var events = 0
        var otherRows = 0
        try await client.withTransaction { connection in
            events = Int(
                try await connection.query("SELECT hubsignal_erase_events(\(positions)::bigint[], \(erasureID))", name: "erase.events")[0]
                    .decode(Int64.self, at: 0))
            otherRows += try await connection.execute(
                PQQuery(unsafeSQL: "DELETE FROM rejections WHERE \(Self.mentions("message"))", parameters: Array(parameters.prefix(6))),
                name: "erase.rejections")
            otherRows += try await connection.execute(
                """
                DELETE FROM hubspot_event_outbox
                WHERE user_id = ANY(\(found.userIDs)::text[]) OR anonymous_id = ANY(\(found.anonymousIDs)::text[])
                   OR email = ANY(\(found.emails)::text[])
                """, name: "erase.hubspot_outbox")
            otherRows += try await connection.execute(
                """
                DELETE FROM onesignal_outbox
                WHERE hubspot_object_id = ANY(\(found.hubSpotIDs)::text[]) OR external_id = ANY(\(found.userIDs + found.emails)::text[])
                   OR email = ANY(\(found.emails)::text[])
                """, name: "erase.onesignal_outbox")
            otherRows += try await connection.execute(
                "DELETE FROM deliveries WHERE object_key = ANY(\(found.contactIDs)::text[])", name: "erase.deliveries")
            let payload: JSONValue = .object([
                "erasureId": .string(erasureID), "contactIds": .array(found.contactIDs.map(JSONValue.string)),
                "events": .int(Int64(events)),
            ])
            _ = try await store.append(
                [
                    NewEvent(
                        stream: "erasure:\(erasureID)", type: "hubsignal.erasure", source: .hubsignal, idempotencyKey: "erasure:\(erasureID)",
                        occurredAt: Date(), payload: PQJSONB(bytes: try payload.serialized()))
                ], on: connection)
        }
        // Forwarding happens after HubSignal's own erasure is committed; a failure here leaves that done and says so.
        var forwarded: [String] = []
        if let hubSpot {
            for email in found.emails {
                try await Self.retrying { try await hubSpot.gdprDeleteContact(email: email) } retryAfter: { error in
                    (error as? HubSpotError).flatMap { $0.isRetryable ? ($0.retryAfter ?? .seconds(1)) : nil }
                }
            }
            forwarded.append("hubspot")
        }
        for (app, client, byEmail) in oneSignal {
            for id in byEmail ? found.emails : found.userIDs {
                try await Self.retrying { try await client.deleteUser(.externalID(id)) } retryAfter: { error in
                    (error as? OneSignalError).flatMap { $0.isRetryable ? ($0.retryAfter ?? .seconds(1)) : nil }
                }
            }
            forwarded.append("onesignal:\(app)")
        }
        return Report(erasureID: erasureID, contactIDs: found.contactIDs, events: events, otherRows: otherRows, forwarded: forwarded)
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
    init(_ description: String) { self.description = description }
}
