import Domain
import EventStore
import Foundation
import HubSpot
import Ingestion
import Mapping

extension HubSpotSync {
    /// Writes claimed custom object records (`custom_objects:` in the mapping), one at a time: finds the record by the
    /// rule's search fields — first among the records HubSignal wrote (the log's `object_synced` events: HubSpot's search
    /// shows a write only seconds later), then by searching the object type (`EQ` filters; the oldest when several
    /// match) — updates it, or creates one when the rule allows it, then associates it with the message's contact or
    /// company (labelled when the rule names a label, else HubSpot's default association).
    ///
    /// A record whose association target is not in HubSpot yet waits (retried with backoff, like behavioral events whose
    /// contact is unknown). What HubSpot answered is recorded as `HubSpotObjectSynced`, or
    /// `HubSpotEventFailed` with the reason for a dead letter.
    func writeCustomObjects(_ records: [DeliveryLedger.ClaimedEvent], into round: inout EventRound) async {
        // HubSpot's search shows a write a few seconds late: records written in this round are remembered, so two
        // messages for one record in a batch update it rather than create it twice.
        var written: [String: String] = [:]
        for record in records {
            await writeCustomObject(record, written: &written, into: &round)
        }
    }

    private func writeCustomObject(
        _ record: DeliveryLedger.ClaimedEvent, written: inout [String: String], into round: inout EventRound
    ) async {
        guard let rule = mapping.customObjects.first(where: { $0.name == record.rule }) else {
            failObject(record, reason: "the mapping has no custom object rule '\(record.rule)' any more", into: &round)
            return
        }
        var target: (type: String, id: String)?
        if let association = rule.association {
            let isContact = association.toObject == "contacts"
            guard let id = isContact ? record.hubSpotContactID : record.hubSpotCompanyID else {
                let reason = isContact ? "the contact is not in HubSpot yet" : "the company is not in HubSpot yet"
                wait(record, reason: reason, into: &round)
                return
            }
            target = (association.toObject, id)
        }
        var search: [String: String] = [:]
        let objectType = rule.objectType
        for field in rule.searchFields {
            guard let value = record.properties[field], !value.isEmpty else {
                failObject(record, reason: "search field '\(field)' has no value in the message", into: &round)
                return
            }
            search[field] = value
        }
        let searchKey = Self.searchKey(search)
        let memo = objectType + "\u{1E}" + searchKey
        do {
            // The label first: a rule naming a label HubSpot does not have writes nothing.
            var labelled: HubSpotAssociationType?
            if let target, let label = rule.association?.label {
                labelled = try await associationLabels.type(labelled: label, from: objectType, to: target.type, client: client)
                guard labelled != nil else {
                    failObject(
                        record, reason: "HubSpot has no association label '\(label)' from \(objectType) to \(target.type)",
                        into: &round)
                    return
                }
            }
            var updated: String?
            var known = written[memo]
            if known == nil { known = try await knownRecord(objectType: objectType, searchKey: searchKey) }
            if let known {
                do {
                    try await client.updateObject(ofType: objectType, id: known, properties: record.properties)
                    updated = known
                } catch let error as HubSpotError where error.code == .notFound {
                    // Deleted in HubSpot since HubSignal wrote it: search for another.
                }
            }
            if updated == nil, let found = try await client.searchObjects(ofType: objectType, equal: search, limit: 1).first?.id {
                try await client.updateObject(ofType: objectType, id: found, properties: record.properties)
                updated = found
            }
            let hubSpotID: String
            let created = updated == nil
            if let updated {
                hubSpotID = updated
            } else if rule.createIfMissing {
                hubSpotID = try await client.createObject(ofType: objectType, properties: record.properties).id
            } else {
                failObject(record, reason: "no record matched and create_if_missing is false", into: &round)
                return
            }
            written[memo] = hubSpotID
            if let target {
                if let type = labelled {
                    do {
                        try await client.associate(objectType, hubSpotID, to: target.type, target.id, types: [type])
                    } catch let error as HubSpotError where error.code == .validation {
                        // The label may have been deleted or recreated under another id: read the labels again next time.
                        await associationLabels.invalidate(from: objectType, to: target.type)
                        throw error
                    }
                } else {
                    try await client.associateDefault(objectType, hubSpotID, to: target.type, target.id)
                }
            }
            synced(
                record, rule: rule, search: search, hubSpotID: hubSpotID, created: created, associatedWith: target?.id,
                into: &round)
        } catch let error as HubSpotError where error.code == .validation || error.code == .notFound || error.code == .conflict {
            failObject(record, reason: error.reason, into: &round)
        } catch {
            round.lastError = Self.reason(error)
            let decision = decide(after: error, attempts: record.attempts + 1)
            if case .dead(_, let reason) = decision {
                failObject(record, reason: "gave up after \(record.attempts + 1) attempts: \(reason)", into: &round)
            } else {
                round.outcomes[record.key] = decision
            }
        }
    }

    /// The association target is not in HubSpot yet: try again later, until the attempts run out.
    private func wait(_ record: DeliveryLedger.ClaimedEvent, reason: String, into round: inout EventRound) {
        let attempts = record.attempts + 1
        if attempts >= configuration.retry.maximumAttempts {
            failObject(record, reason: "gave up after \(attempts) attempts: \(reason)", into: &round)
        } else {
            let delay = configuration.retry.delay(afterAttempts: attempts, atLeast: configuration.pollInterval)
            round.outcomes[record.key] = .retry(after: delay, reason: reason)
        }
    }

    private func synced(
        _ record: DeliveryLedger.ClaimedEvent, rule: CustomObjectRule, search: [String: String], hubSpotID: String,
        created: Bool,
        associatedWith targetID: String?, into round: inout EventRound
    ) {
        var associatedWith: HubSpotObjectSynced.Association?
        if let association = rule.association, let targetID {
            associatedWith = .init(objectType: association.toObject, hubSpotID: targetID, label: association.label)
        }
        let payload = HubSpotObjectSynced(
            position: record.position, rule: rule.name, objectType: rule.objectType, hubSpotID: hubSpotID, created: created,
            properties: record.properties.keys.sorted(), search: search, searchKey: Self.searchKey(search), contactID: record.contactID,
            associatedWith: associatedWith)
        round.events.append(
            resultEvent(
                payload, stream: Self.stream(of: record),
                idempotencyKey: "\(HubSpotObjectSynced.eventType):\(record.position):\(record.rule)"))
        // Delivered: finishEvents removes the row from the outbox and the ledger.
        round.outcomes[record.key] = .done(desiredHash: record.uuid)
    }

    private func failObject(_ record: DeliveryLedger.ClaimedEvent, reason: String, into round: inout EventRound) {
        round.outcomes[record.key] = .dead(desiredHash: record.uuid, reason: reason)
        let payload = HubSpotEventFailed(
            position: record.position, subject: .customObject(rule: record.rule, objectType: record.eventName), reason: reason,
            contactID: record.contactID)
        round.events.append(
            resultEvent(
                payload, stream: Self.stream(of: record),
                idempotencyKey: "\(HubSpotEventFailed.eventType):\(record.position):\(record.rule)"))
        // HubSpot's reason can quote values: it goes to the ledger and the event log, not to logs.
        logger.warning(
            "HubSpot refused a custom object record; its reason is in deliveries.last_error",
            metadata: ["position": "\(record.position)", "rule": "\(record.rule)"])
    }

    /// The record HubSignal last wrote with these search values, by the log's `object_synced` events (indexed by
    /// object type and search key, migration 0010).
    private func knownRecord(objectType: String, searchKey: String) async throws -> String? {
        let rows = try await database.query(
            """
            SELECT payload->>'hubspotId' FROM events
            WHERE type = \(literal: EventType.hubSpotObjectSynced.rawValue) AND payload->>'objectType' = \(objectType)
              AND payload->>'searchKey' = \(searchKey)
            ORDER BY position DESC
            LIMIT 1
            """, name: "delivery.known_custom_object")
        return try rows.first?.decode(String?.self, at: 0)
    }

    /// The search values as one text: `field=value` pairs by field name, `&`-separated, each part percent-encoded.
    static func searchKey(_ search: [String: String]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        func encoded(_ text: String) -> String { text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text }
        return search.keys.sorted().map { encoded($0) + "=" + encoded(search[$0] ?? "") }.joined(separator: "&")
    }

    private static func stream(of record: DeliveryLedger.ClaimedEvent) -> String {
        record.contactID.map { "contact:\($0)" } ?? "hubspot-objects"
    }
}

/// Association type ids by label and object type pair, read once from HubSpot (`/crm/associations/v4/{from}/{to}/labels`)
/// and kept until a labelled association is refused or a label is not among them.
actor AssociationLabelCache {
    private var types: [String: [HubSpotAssociationType]] = [:]

    /// The association type labelled `label` from `fromType` to `toType`; `nil` when HubSpot has none.
    func type(labelled label: String, from fromType: String, to toType: String, client: HubSpotClient) async throws
        -> HubSpotAssociationType?
    {
        let key = fromType + " " + toType
        if let cached = types[key], let type = Self.find(label, in: cached) { return type }
        // Not read yet, or a label created since: ask HubSpot.
        let known = try await client.associationTypes(from: fromType, to: toType)
        types[key] = known
        return Self.find(label, in: known)
    }

    /// The type with exactly this label, else one whose label differs only in case.
    private static func find(_ label: String, in types: [HubSpotAssociationType]) -> HubSpotAssociationType? {
        types.first { $0.label == label } ?? types.first { $0.label?.lowercased() == label.lowercased() }
    }

    /// Forgets the types between two object types.
    func invalidate(from fromType: String, to toType: String) {
        types[fromType + " " + toType] = nil
    }
}
