import Domain
import EventStore
import Foundation
import HubSpot
import Ingestion
import Mapping
import PQ
import Projections

extension HubSpotSync {
    /// Claims a batch of companies and upserts them by the group-id property (created by HubSignal with unique values).
    func pushCompanies() async throws -> Int {
        let claimed = try await ledger.claimHubSpotCompanies(
            limit: configuration.batchSize, linger: configuration.linger, lease: configuration.lease, owner: configuration.owner, holder: claimToken)
        guard !claimed.isEmpty else { return 0 }
        let target = Target.companies(idProperty: mapping.companies.groupIDProperty)
        var desired: [Push] = []
        for company in claimed {
            var properties = Self.changes(desired: company.desired, acknowledged: company.acknowledged, attempts: company.attempts)
            // Upserts create the company with the key property set; it need not be sent as a change.
            properties[target.idProperty] = nil
            desired.append(
                Push(
                    key: company.companyID, target: target, id: company.groupID, subject: .company(groupID: company.groupID),
                    properties: properties, acknowledged: company.acknowledged.merging(
                        [target.idProperty: .string(company.groupID)]) { _, new in new },
                    desiredHash: company.desiredHash, updatedPosition: company.updatedPosition, attempts: company.attempts))
        }
        var round = Round()
        // A company HubSignal never synced may already be in HubSpot (created by hand, or by HubSpot from a contact's
        // email domain): found by the mapping's match fields (`match_by`, default the domain), it gets the group id
        // property instead of a twin. With `create_if_not_found: false` a company found nowhere is a dead letter.
        var upserts: [Push] = []
        do {
            // The group id property (and any the mapping creates) must exist before a found company gets it.
            try await prepareProperties(&desired)
        } catch {
            fail(desired, with: error, into: &round)
            desired = []
        }
        let rules = mapping.companies
        for push in desired {
            guard let company = claimed.first(where: { $0.companyID == push.key }), company.hubSpotCompanyID == nil,
                company.acknowledged.isEmpty
            else {
                upserts.append(push)
                continue
            }
            // The match fields with a value, in the mapping's order (`match_by`; the domain may come from the website).
            var fields: [(name: String, value: String)] = []
            for name in rules.matchBy {
                let value = name == "domain" ? company.domain ?? company.desired[name]?.scalarText : company.desired[name]?.scalarText
                if let value, !value.trimmingCharacters(in: .whitespaces).isEmpty { fields.append((name, value)) }
            }
            guard !fields.isEmpty || !rules.createIfNotFound else {
                upserts.append(push)
                continue
            }
            do {
                var existing: HubSpotObject?
                // Without creation, the upsert by group id cannot be the way to find it: ask for the group id first.
                if !rules.createIfNotFound {
                    existing = try await client.searchObjects(
                        ofType: "companies", equal: [target.idProperty: company.groupID], limit: 1).first
                }
                for field in fields where existing == nil {
                    existing = try await client.searchObjects(ofType: "companies", equal: [field.name: field.value], limit: 1).first
                }
                guard let existing else {
                    if rules.createIfNotFound {
                        upserts.append(push)
                    } else {
                        let tried = ([target.idProperty] + fields.map(\.name)).joined(separator: ", ")
                        dead(
                            push,
                            reason: "no HubSpot company matches (by \(tried)) and companies.create_if_not_found is false: "
                                + "create it in HubSpot, then `hubsignal retry hubspot`",
                            into: &round)
                    }
                    continue
                }
                var properties = push.properties.mapValues(Self.hubSpotString)
                properties[target.idProperty] = company.groupID
                _ = try await client.updateObject(ofType: "companies", id: existing.id, properties: properties)
                synced(push, hubSpotID: existing.id, created: false, into: &round)
            } catch {
                fail([push], with: error, into: &round)
            }
        }
        await upsert(upserts, into: &round)
        try await ledger.finish(
            kind: .company, outcomes: round.outcomes, events: round.events, owner: configuration.owner, holder: claimToken,
            store: store)
        if let error = round.lastError { await record(error: error) }
        return claimed.count
    }

    /// The HubSpot properties the account audiences of these companies may write: for each trait holding a membership
    /// flag without a company rule, its audience property (the projection derives one only for account audiences).
    func companyAudienceProperties(of companyIDs: [String]) async throws -> Set<String> {
        let rows = try await database.query(
            "SELECT traits FROM \(table: .companies) WHERE company_id = ANY(\(companyIDs)::text[])", name: "delivery.company_audiences")
        var names: Set<String> = []
        for row in rows {
            guard case .object(let traits) = try JSONValue.parse(try row.decode(PQJSONB.self, at: 0).bytes) else { continue }
            for (key, value) in traits where mapping.companies.properties[key] == nil && AudienceRules.isMembershipFlag(value) {
                names.insert(mapping.audiences.hubSpotProperty(forAudience: key))
            }
        }
        return names
    }

    /// Claims contact → company links whose two sides HubSpot knows and associates each pair (v4 batch create: the
    /// plain contact → company association, type 279, and for a contact's first company also the primary one, type 1).
    func pushAssociations() async throws -> Int {
        let claimed = try await ledger.claimHubSpotAssociations(
            limit: configuration.batchSize, lease: configuration.lease, owner: configuration.owner, holder: claimToken)
        guard !claimed.isEmpty else { return 0 }
        var outcomes: [String: DeliveryLedger.Outcome] = [:]
        var events: [NewEvent] = []
        // The contact's first company becomes its primary one (type 1) besides the plain association (279).
        var primaryGiven: Set<String> = []
        var pairs: [(pair: HubSpotAssociationPair, types: [HubSpotAssociationType])] = []
        for association in claimed.sorted(by: { $0.companyID < $1.companyID }) {
            var types = [HubSpotAssociationType(category: "HUBSPOT_DEFINED", typeId: 279)]
            if association.isFirst, primaryGiven.insert(association.contactID).inserted {
                types.append(HubSpotAssociationType(category: "HUBSPOT_DEFINED", typeId: 1))
            }
            pairs.append((HubSpotAssociationPair(fromID: association.hubSpotContactID, toID: association.hubSpotCompanyID), types))
        }
        do {
            let associated = try await client.associate(pairs, from: "contact", to: "company")
            for association in claimed {
                guard associated.contains(HubSpotAssociationPair(fromID: association.hubSpotContactID, toID: association.hubSpotCompanyID))
                else {
                    // Refused in a multi-status answer (one side deleted in HubSpot since): try again later.
                    outcomes[association.key] = .retry(
                        after: configuration.retry.delay(afterAttempts: association.attempts + 1),
                        reason: "HubSpot did not associate contact \(association.hubSpotContactID) with company \(association.hubSpotCompanyID)")
                    continue
                }
                outcomes[association.key] = .done(desiredHash: association.desiredHash)
                events.append(
                    resultEvent(
                        HubSpotAssociationSynced(
                            contactID: association.contactID, companyID: association.companyID, groupID: association.groupID,
                            hubSpotContactID: association.hubSpotContactID, hubSpotCompanyID: association.hubSpotCompanyID),
                        stream: "contact:\(association.contactID)",
                        idempotencyKey: "\(HubSpotAssociationSynced.eventType):\(association.contactID):\(association.companyID):"
                            + "\(association.hubSpotContactID):\(association.hubSpotCompanyID)"))
            }
        } catch {
            for association in claimed {
                let decision = decide(after: error, attempts: association.attempts + 1)
                if case .dead(_, let reason) = decision {
                    outcomes[association.key] = .dead(desiredHash: association.desiredHash, reason: reason)
                } else {
                    outcomes[association.key] = decision
                }
            }
            await record(error: Self.reason(error))
        }
        try await ledger.finish(
            kind: .association, outcomes: outcomes, events: events, owner: configuration.owner, holder: claimToken,
            store: store)
        return claimed.count
    }
}
