import Domain
import EventStore
import Foundation
import Ingestion
import PQ

/// The audit trail of one contact (`hubsignal events`): every event of the log that concerns it, oldest first.
///
/// The contact is resolved through the read models, so contacts merged into it count as its own. An event concerns it
/// when it names one of its identities as `IdentityKeys` says. Candidates are its streams' whole history and, on other
/// streams, the events the `events_mentions` index finds (migration 0022: the whole log); before that migration, the
/// most recent `recentWindow` positions of every other stream (older events on other streams are not found). Reads stop at
/// the oldest running transaction (`EventStore.read(matching:after:limit:taking:)`), so following with the returned
/// cursor never skips an event that commits late.
public struct ContactAuditTrail: Sendable {
    /// How one names a contact.
    public enum Reference: Sendable, Hashable, CustomStringConvertible {
        /// A `contact_id` (a merged one resolves to the contact it was merged into).
        case contactID(String)
        case userID(String)
        /// Matched case-insensitively, like the projection does.
        case email(String)
        case hubSpotID(String)
        case anonymousID(String)
        case oneSignalID(String)

        public var description: String {
            switch self {
            case .contactID(let value): return "contact \(value)"
            case .userID(let value): return "user id \(value)"
            case .email(let value): return "email \(value)"
            case .hubSpotID(let value): return "HubSpot id \(value)"
            case .anonymousID(let value): return "anonymous id \(value)"
            case .oneSignalID(let value): return "OneSignal id \(value)"
            }
        }
    }

    /// A contact as the read models know it now.
    public struct Contact: Sendable, Hashable {
        /// The surviving contact.
        public var contactID: String
        /// Contacts merged into it (directly or through others), oldest merge first.
        public var mergedContactIDs: [String]
        /// Its identities: kind (`user_id`, `anonymous_id`, `email`, `hubspot_id`, `onesignal_id`) → values, sorted.
        public var identities: [String: [String]]
        /// OneSignal external ids of its devices (a `userId` or an email).
        public var externalIDs: [String]

        /// The contact and the contacts merged into it.
        public var allContactIDs: [String] { [contactID] + mergedContactIDs }

        func values(_ kind: IdentityKeys.Name) -> [String] { identities[kind.rawValue] ?? [] }

        /// The streams its events are appended on.
        public var streams: [String] { predicate.streams }

        /// Its identities as the generated SQL compares them (OneSignal external ids: its userIds and devices' ids).
        var predicate: IdentityPredicate.Identities {
            IdentityPredicate.Identities(
                userIDs: values(.userID), anonymousIDs: values(.anonymousID), emails: values(.email), hubSpotIDs: values(.hubSpotID),
                oneSignalIDs: values(.oneSignalID), contactIDs: allContactIDs, externalIDs: values(.userID) + externalIDs)
        }
    }

    /// One event of the trail.
    public struct Event: Sendable, Hashable {
        public var position: Int64
        public var transactionID: UInt64
        public var stream: String
        public var type: EventType
        public var source: EventSource
        public var occurredAt: Date
        public var recordedAt: Date
        public var payload: JSONValue

        init(_ recorded: RecordedEvent) {
            position = recorded.position
            transactionID = recorded.transactionID
            stream = recorded.stream
            type = recorded.type
            source = recorded.source
            occurredAt = recorded.occurredAt
            recordedAt = recorded.recordedAt
            payload = (try? JSONValue.parse(recorded.payload.bytes)) ?? .string(String(decoding: recorded.payload.bytes, as: UTF8.self))
        }

        /// Its place in the log's read order (for following).
        public var cursor: LogCursor { LogCursor(transactionID: transactionID, position: position) }

        /// One line about it: who it names and, for HubSignal's result events, what the API answered.
        public var summary: String { ContactAuditTrail.summary(type: type, payload: payload) }

        /// `{"position", "recorded_at", "source", "type", "stream", "payload"}`, for `--json`.
        public var json: JSONValue {
            .object([
                "position": .int(position), "recorded_at": .string(ISO8601Timestamp.format(recordedAt)),
                "occurred_at": .string(ISO8601Timestamp.format(occurredAt)), "source": .string(source.rawValue),
                "type": .string(type.rawValue), "stream": .string(stream), "payload": payload,
            ])
        }
    }

    /// A page of the trail.
    public struct Page: Sendable {
        /// Oldest first.
        public var events: [Event]
        /// Whether the trail holds earlier events than these (`latest` only).
        public var hasEarlier: Bool
        /// Where to continue reading with `events(contactID:limit:after:)` to see only what comes next.
        public var cursor: LogCursor
    }

    /// The log the trail reads; the read models are read through its client.
    public let store: EventStore
    /// How many of the most recent positions are also scanned on every stream (see the type's documentation).
    public var recentWindow: Int64

    var client: PQClient { store.client }

    public init(store: EventStore, recentWindow: Int64 = 100_000) {
        self.store = store
        self.recentWindow = max(0, recentWindow)
    }

    // MARK: - Resolving

    /// The contact `reference` names, following merges to the survivor; `nil` when the read models do not know it.
    public func resolve(_ reference: Reference) async throws -> Contact? {
        let start: String
        if case .contactID(let id) = reference {
            start = id
        } else {
            // Emails are stored normalised, as the projection normalises them; one it could not store names nobody.
            let (kind, value): (IdentityKeys.Name, String?) =
                switch reference {
                case .contactID(let id): (.contactID, id)
                case .userID(let id): (.userID, id)
                case .email(let email): (.email, IdentityKeys.normalizedEmail(email))
                case .hubSpotID(let id): (.hubSpotID, id)
                case .anonymousID(let id): (.anonymousID, id)
                case .oneSignalID(let id): (.oneSignalID, id)
                }
            guard let value else { return nil }
            let rows = try await client.query(
                "SELECT contact_id FROM identities WHERE kind = \(kind.rawValue) AND value = \(value)", name: "audit.identity")
            guard let row = rows.first else { return nil }
            start = try row.decode(String.self, at: 0)
        }
        // The survivor: follow contact_merges upwards (chains are short; the depth bounds a corrupt cycle).
        let survivorRows = try await client.query(
            """
            WITH RECURSIVE up(contact_id, depth) AS (
                SELECT \(start)::text COLLATE "C", 0
                UNION ALL
                SELECT m.into_contact_id, up.depth + 1 FROM contact_merges m JOIN up ON m.merged_contact_id = up.contact_id
                WHERE up.depth < 100
            )
            SELECT up.contact_id FROM up JOIN contacts c USING (contact_id) ORDER BY up.depth DESC LIMIT 1
            """, name: "audit.survivor")
        guard let survivorRow = survivorRows.first else { return nil }
        let survivor = try survivorRow.decode(String.self, at: 0)
        let merged = try await client.query(
            """
            WITH RECURSIVE down(contact_id, position, depth) AS (
                SELECT \(survivor)::text COLLATE "C", 0::bigint, 0
                UNION ALL
                SELECT m.merged_contact_id, m.position, down.depth + 1
                FROM contact_merges m JOIN down ON m.into_contact_id = down.contact_id
                WHERE down.depth < 100
            )
            SELECT contact_id FROM down WHERE depth > 0 ORDER BY position, contact_id
            """, name: "audit.merged"
        ).map { try $0.decode(String.self, at: 0) }
        let ids = [survivor] + merged
        var identities: [String: Set<String>] = [:]
        for row in try await client.query(
            """
            SELECT kind, value FROM identities WHERE contact_id = ANY(\(ids)::text[])
            UNION
            SELECT \(IdentityKeys.Name.hubSpotID.rawValue), hubspot_contact_id FROM contacts
            WHERE contact_id = ANY(\(ids)::text[]) AND hubspot_contact_id IS NOT NULL
            UNION
            SELECT \(IdentityKeys.Name.oneSignalID.rawValue), onesignal_id FROM contacts
            WHERE contact_id = ANY(\(ids)::text[]) AND onesignal_id IS NOT NULL
            UNION
            SELECT \(IdentityKeys.Name.oneSignalID.rawValue), onesignal_id FROM devices
            WHERE contact_id = ANY(\(ids)::text[]) AND onesignal_id IS NOT NULL
            """, name: "audit.identities")
        {
            let (kind, value) = try row.decode((String, String).self)
            identities[kind, default: []].insert(value)
        }
        let externalIDs = try await client.query(
            """
            SELECT DISTINCT external_id FROM devices WHERE contact_id = ANY(\(ids)::text[]) AND external_id IS NOT NULL
            ORDER BY external_id
            """, name: "audit.external_ids"
        ).map { try $0.decode(String.self, at: 0) }
        return Contact(
            contactID: survivor, mergedContactIDs: merged, identities: identities.mapValues { $0.sorted() }, externalIDs: externalIDs)
    }

    // MARK: - Reading

    /// The contact's events after `after` (from the beginning when `nil`), oldest first, at most `limit`. The contact
    /// is resolved again on each call, so identities and merges learned meanwhile count. Throws when it is unknown.
    public func events(contactID: String, limit: Int, after: LogCursor? = nil) async throws -> Page {
        precondition(limit > 0, "limit must be positive")
        let contact = try await known(contactID)
        let page = try await store.read(matching: try await filter(contact), after: after ?? .origin, limit: limit)
        return Page(events: page.events.map(Event.init), hasEarlier: false, cursor: page.nextCursor)
    }

    /// The contact's `limit` most recent events, oldest first, and the cursor to follow it from. Throws when it is unknown.
    public func latest(contactID: String, limit: Int) async throws -> Page {
        precondition(limit > 0, "limit must be positive")
        let contact = try await known(contactID)
        let page = try await store.read(matching: try await filter(contact), limit: limit + 1, taking: .newest)
        let hasEarlier = page.events.count > limit
        return Page(events: page.events.suffix(limit).map(Event.init), hasEarlier: hasEarlier, cursor: page.nextCursor)
    }

    private func known(_ contactID: String) async throws -> Contact {
        guard let contact = try await resolve(.contactID(contactID)) else {
            throw ContactAuditTrailError(message: "no contact \(contactID) in the read models")
        }
        return contact
    }

    /// The contact's streams (their whole history) and the events the mentions index finds (else the recent window),
    /// narrowed to the events that name the contact as `IdentityKeys` says (every field the projection identifies
    /// people by, and HubSignal's result events naming it); workflow actions count when they run on a contact.
    private func filter(_ contact: Contact) async throws -> LogFilter {
        let onContacts: PQQuery = "upper(COALESCE(payload->'object'->>'objectType', 'CONTACT')) = 'CONTACT'"
        let condition = IdentityPredicate.names(
            contact.predicate, mentionsOf: [IdentityKeys.hubSignal], narrowing: [IdentityKeys.hubSpotAction: onContacts])
        let indexed = try await store.client.query(
            "SELECT to_regprocedure('hubsignal_mention_keys(text[],bigint[])') IS NOT NULL", name: "audit.indexed")[0]
            .decode(Bool.self, at: 0)
        guard indexed else { return LogFilter(streams: contact.streams, recentPositions: recentWindow, condition: condition) }
        return LogFilter(streams: contact.streams, mentioning: IdentityPredicate.mayMention(contact.predicate), condition: condition)
    }
}

/// The contact of an audit trail is not in the read models.
public struct ContactAuditTrailError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}

// MARK: - Summaries

extension ContactAuditTrail {
    /// One line about an event: the identities it names, and for result events what HubSpot or OneSignal answered.
    public static func summary(type: EventType, payload: JSONValue) -> String {
        let text = summaryParts(type: type, payload: payload).filter { !$0.isEmpty }.joined(separator: "; ")
        return text.count > 240 ? String(text.prefix(239)) + "…" : text
    }

    private static func summaryParts(type: EventType, payload: JSONValue) -> [String] {
        func value(_ key: String) -> String? { payload[key].flatMap(scalar) }
        func keys(_ key: String) -> String? {
            guard let object = payload[key]?.objectValue, !object.isEmpty else { return nil }
            return object.keys.sorted().joined(separator: ", ")
        }
        func list(_ key: String) -> String? {
            guard case .array(let items)? = payload[key], !items.isEmpty else { return nil }
            return items.compactMap(scalar).joined(separator: ", ")
        }
        func labelled(_ label: String, _ text: String?) -> String { text.map { "\(label) \($0)" } ?? "" }
        func segmentWho() -> String {
            let email = payload["traits"]?["email"].flatMap(scalar) ?? payload["context"]?["traits"]?["email"].flatMap(scalar)
            return [labelled("userId", value("userId")), value("userId") == nil ? labelled("anonymousId", value("anonymousId")) : "",
                    labelled("email", email)].filter { !$0.isEmpty }.joined(separator: ", ")
        }
        func decoded<Payload: EventPayload>(_ type: Payload.Type) -> Payload? { try? Payload(json: payload) }
        func firstMembers() -> [String] {
            guard let object = payload.objectValue else { return [] }
            return [object.keys.sorted().prefix(6).map { "\($0)=\(object[$0].flatMap(scalar) ?? "…")" }.joined(separator: ", ")]
        }
        func oneSignal(_ flat: String, _ nested: String) -> String? {
            payload[flat].flatMap(scalar) ?? payload["event.\(nested)"].flatMap(scalar) ?? payload["event"]?[nested].flatMap(scalar)
        }

        switch type {
        case .identify:
            return [segmentWho(), labelled("traits:", keys("traits"))]
        case .track:
            return [value("event").map { "“\($0)”" } ?? "", segmentWho(), labelled("properties:", keys("properties"))]
        case .page, .screen:
            return [value("name").map { "“\($0)”" } ?? "", segmentWho()]
        case .group:
            return [labelled("groupId", value("groupId")), segmentWho(), labelled("traits:", keys("traits"))]
        case .alias:
            return ["\(value("previousId") ?? "?") → \(value("userId") ?? "?")"]
        case _ where type.belongs(to: .segment):
            return [segmentWho()]

        case .hubSpotContactPropertyChange:
            return [
                "HubSpot contact \(value("objectId") ?? "?")",
                "\(value("propertyName") ?? "?") = \(payload["propertyValue"].flatMap(scalar) ?? "null")",
                labelled("by", value("changeSource")),
            ]
        case .hubSpotContactMerge:
            return ["HubSpot contact \(value("primaryObjectId") ?? value("objectId") ?? "?")", labelled("merged with", list("mergedObjectIds"))]
        case _ where type.belongs(to: .hubSpotWebhook):
            return ["HubSpot \(value("subscriptionType") ?? type.hubSpotSubscription ?? "?") \(value("objectId") ?? "?")"]
        case _ where type.belongs(to: .hubSpotAction):
            let inputs = payload["inputFields"] ?? payload["fields"]
            var parts = ["HubSpot contact \(payload["object"]?["objectId"].flatMap(scalar) ?? "?")", labelled("callback", value("callbackId"))]
            if let inputs, let object = inputs.objectValue {
                parts.append(object.keys.sorted().map { "\($0)=\(object[$0].flatMap(scalar) ?? "…")" }.joined(separator: ", "))
            }
            return parts

        case _ where type.belongs(to: .oneSignal):
            return [
                labelled("external id", oneSignal("external_id", "external_id")),
                labelled("OneSignal id", oneSignal("onesignal_id", "onesignal_id")),
                labelled("notification", oneSignal("message_id", "message_id") ?? oneSignal("notification_id", "notification_id")),
                payload["title"].flatMap(scalar).map { "“\($0)”" } ?? "",
            ]

        // HubSignal's own events, read through their payload types; one that does not decode is shown as the others.
        case .hubSpotContactSynced:
            guard let synced = decoded(HubSpotContactSynced.self) else { return firstMembers() }
            return [
                "HubSpot contact \(clip(synced.hubSpotID))" + (synced.created ? " created" : " updated"),
                labelled("sent:", joined(synced.sent)), labelled("dropped:", joined(synced.dropped)),
            ]
        case .oneSignalUserSynced:
            guard let synced = decoded(OneSignalUserSynced.self) else { return firstMembers() }
            let user = synced.externalID.isEmpty ? synced.oneSignalID ?? "?" : synced.externalID
            return [
                "OneSignal user \(clip(user))" + (synced.created ? " created" : ""), labelled("sent:", joined(synced.sent)),
                labelled("tags:", joined(synced.tags.mapValues { scalar($0) ?? "null" })), labelled("app", clip(synced.app)),
            ]
        case .hubSpotDeliveryFailed, .oneSignalDeliveryFailed, .hubSpotEventFailed, .oneSignalNotificationFailed,
            .hubSpotActionCompletionFailed:
            let failure: (reason: String, properties: [String])? =
                switch type {
                case .hubSpotDeliveryFailed: decoded(HubSpotDeliveryFailed.self).map { ($0.reason, $0.properties) }
                case .oneSignalDeliveryFailed: decoded(OneSignalDeliveryFailed.self).map { ($0.reason, []) }
                case .hubSpotEventFailed: decoded(HubSpotEventFailed.self).map { ($0.reason, []) }
                case .oneSignalNotificationFailed: decoded(OneSignalNotificationFailed.self).map { ($0.reason, []) }
                default: decoded(HubSpotActionCompletionFailed.self).map { ($0.reason, []) }
                }
            guard let failure else { return firstMembers() }
            return ["failed: \(clip(failure.reason))", labelled("properties:", joined(failure.properties))]
        case .oneSignalNotificationRequested:
            guard let requested = decoded(OneSignalNotificationRequested.self) else { return firstMembers() }
            return [
                requested.request.pushToEmail.map { labelled("to the push subscriptions of", clip($0)) }
                    ?? labelled("to external id", clip(requested.request.externalID)),
                labelled("by", requested.request.targetChannel == "push" ? nil : clip(requested.request.targetChannel)),
                labelled("template", requested.request.templateID.map(clip)),
                (requested.request.content ?? requested.request.emailSubject).map { "“\(clip($0))”" } ?? "",
                labelled("callback", clip(requested.callbackID)),
            ]
        case .oneSignalNotificationSent:
            guard let sent = decoded(OneSignalNotificationSent.self) else { return firstMembers() }
            return [
                labelled("notification", clip(sent.notificationID)), labelled("recipients", String(sent.recipients)),
                sent.replayed ? "replayed" : "",
            ]
        case .hubSpotActionCompleted:
            guard let completed = decoded(HubSpotActionCompleted.self) else { return firstMembers() }
            return ["HubSpot action completed", labelled("outputs:", joined(completed.outputFields)), labelled("callback", clip(completed.callbackID))]
        case .hubSpotAssociationSynced:
            guard let associated = decoded(HubSpotAssociationSynced.self) else { return firstMembers() }
            return ["associated with company \(clip(associated.groupID))"]
        case .hubSpotObjectSynced:
            guard let synced = decoded(HubSpotObjectSynced.self) else { return firstMembers() }
            return [
                "HubSpot \(clip(synced.objectType)) \(clip(synced.hubSpotID))" + (synced.created ? " created" : " updated"),
                labelled("rule", clip(synced.rule)),
            ]
        default:
            return firstMembers()
        }
    }

    /// A text shortened to 80 characters.
    private static func clip(_ text: String) -> String {
        text.count > 80 ? String(text.prefix(79)) + "…" : text
    }

    /// `a, b, c`, each shortened; `nil` when empty.
    private static func joined(_ items: [String]) -> String? {
        items.isEmpty ? nil : items.map(clip).joined(separator: ", ")
    }

    /// `key=value, …` in key order, values shortened; `nil` when empty.
    private static func joined(_ pairs: [String: String]) -> String? {
        pairs.isEmpty ? nil : pairs.keys.sorted().map { "\($0)=\(clip(pairs[$0] ?? ""))" }.joined(separator: ", ")
    }

    private static func scalar(_ value: JSONValue) -> String? {
        guard let text = value.scalarText else { return nil }
        return clip(text)
    }
}
