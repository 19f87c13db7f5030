import Domain
import EventStore
import Foundation
import Ingestion
import Mapping

/// What one event means to the people projection, decoded once.
enum PeopleInput: Sendable {
    /// A Segment call, with its identities (most decisive first) and contact traits worked out once.
    case segment(type: String, message: [String: JSONValue], keys: [IdentityKey], traits: [String: JSONValue])
    case hubSpotContact(subscription: String, payload: [String: JSONValue])
    case hubSpotAction(action: String, payload: [String: JSONValue])
    case oneSignalMessage(kind: String, payload: [String: JSONValue])
    /// HubSpot upserted a contact: its id and the property values it acknowledged.
    case contactSynced(contactID: String, hubSpotID: String, properties: [String: JSONValue]?)
    /// OneSignal acknowledged a user's tags (in `app`; the user by OneSignal id or external id when given).
    case userSynced(contactID: String, tags: [String: JSONValue], payload: [String: JSONValue])
    /// A delivery to `destination` (`hubspot` or `onesignal`) failed for good.
    case deliveryFailed(destination: String, contactID: String, reason: String, app: String?)
    /// HubSpot upserted a company: its id and the property values it acknowledged.
    case companySynced(groupID: String, hubSpotID: String, properties: [String: JSONValue]?)
    /// HubSpot refused a company for good.
    case companyFailed(groupID: String, reason: String)
    /// HubSpot holds the association of a contact with a company.
    case associationSynced(contactID: String, groupID: String)
    /// `hubsignal replay`: forget what `destination` (`hubspot`, or `onesignal` with `app`; every app when `nil`)
    /// acknowledged for these contacts, so their desired state is pushed again in full.
    case replayRequested(destination: String, app: String?, contactIDs: [String])
    /// `hubsignal erase`: these contacts' personal data is gone from the log; remove them from the read models.
    case erasure(contactIDs: [String])
    case ignored

    init(_ event: RecordedEvent) {
        let type = event.type
        guard type.belongs(to: .segment) || type.belongs(to: .hubSpotWebhook) || type.belongs(to: .hubSpotAction)
            || type.belongs(to: .oneSignal) || type.belongs(to: .hubSpotResult) || type.belongs(to: .oneSignalResult)
            || type == .replayRequested || type == .erasure
        else {
            self = .ignored
            return
        }
        // Of a Segment message's context only traits and personas matter here; the rest is skipped, not built.
        let parsed = type.belongs(to: .segment)
            ? try? JSONValue.parse(event.payload.bytes, pruning: "context", keeping: ["traits", "personas"])
            : try? JSONValue.parse(event.payload.bytes)
        guard let payload = parsed?.objectValue else {
            self = .ignored
            return
        }
        if let call = type.segmentCall {
            let traits = segmentTraits(payload)
            self = .segment(
                type: call, message: payload, keys: segmentKeys(payload, traits: traits),
                traits: traits)
        } else if type.belongs(to: .hubSpotContactWebhook), let subscription = type.hubSpotSubscription {
            self = .hubSpotContact(subscription: subscription, payload: payload)
        } else if let action = type.hubSpotAction {
            self = .hubSpotAction(action: action, payload: payload)
        } else if type.belongs(to: .oneSignalMessage), let kind = type.oneSignalKind {
            self = .oneSignalMessage(kind: kind, payload: payload)
        } else if type == .hubSpotContactSynced, let contactID = payload["contactId"]?.identifierValue,
            let hubSpotID = payload["hubspotId"]?.identifierValue
        {
            self = .contactSynced(contactID: contactID, hubSpotID: hubSpotID, properties: payload["properties"]?.objectValue)
        } else if type == .oneSignalUserSynced, let contactID = payload["contactId"]?.identifierValue {
            self = .userSynced(contactID: contactID, tags: payload["tags"]?.objectValue ?? [:], payload: payload)
        } else if type == .hubSpotDeliveryFailed, payload["contactId"] == nil,
            let groupID = payload["groupId"]?.identifierValue
        {
            self = .companyFailed(groupID: groupID, reason: payload["reason"]?.stringValue ?? "unknown")
        } else if type == .hubSpotAssociationSynced, let contactID = payload["contactId"]?.identifierValue,
            let groupID = payload["groupId"]?.identifierValue
        {
            self = .associationSynced(contactID: contactID, groupID: groupID)
        } else if type == .hubSpotDeliveryFailed || type == .oneSignalDeliveryFailed,
            let contactID = payload["contactId"]?.identifierValue
        {
            self = .deliveryFailed(
                destination: type == .hubSpotDeliveryFailed ? Destination.hubspot.rawValue : Destination.onesignal.rawValue, contactID: contactID,
                reason: payload["reason"]?.stringValue ?? "unknown", app: payload["app"]?.stringValue)
        } else if type == .erasure, let contactIDs = payload["contactIds"]?.arrayValue {
            self = .erasure(contactIDs: contactIDs.compactMap(\.stringValue))
        } else if type == .replayRequested, let destination = payload["destination"]?.stringValue,
            let contactIDs = payload["contactIds"]?.arrayValue
        {
            self = .replayRequested(
                destination: destination, app: payload["app"]?.stringValue, contactIDs: contactIDs.compactMap(\.stringValue))
        } else if type == .hubSpotCompanySynced, let groupID = payload["groupId"]?.identifierValue,
            let hubSpotID = payload["hubspotId"]?.identifierValue
        {
            self = .companySynced(groupID: groupID, hubSpotID: hubSpotID, properties: payload["properties"]?.objectValue)
        } else {
            self = .ignored
        }
    }
}

/// A field of a OneSignal event delivery, in the flat template (`external_id`) or the dotted one (`event.external_id`).
func oneSignalField(_ payload: [String: JSONValue], _ flat: String, _ dotted: String) -> String? {
    let value = payload[flat] ?? payload[dotted] ?? payload["event"]?[dotted.replacingOccurrences(of: "event.", with: "")]
    return value?.identifierValue
}

/// What a batch needs in the cache before it can be applied.
struct PeopleNeeds {
    var identities: Set<IdentityKey> = []
    var contactIDs: Set<String> = []
    /// Company identities (`group_id`, `domain`, `hubspot_id`).
    var companyKeys: Set<IdentityKey> = []

    mutating func add(_ input: PeopleInput, mapping: Mapping) {
        switch input {
        case .segment(let type, let message, let keys, _):
            for key in keys { identities.insert(key) }
            if type == "alias", let previous = message["previousId"]?.identifierValue {
                identities.insert(.userID(previous))
                identities.insert(.anonymousID(previous))
            }
            if type == "group" { for key in groupCallCompanyKeys(message, mapping: mapping) { companyKeys.insert(key) } }
        case .hubSpotContact(_, let payload):
            for key in hubSpotContactKeys(payload) { identities.insert(key) }
        case .hubSpotAction(_, let payload):
            if let objectID = payload["object"]?["objectId"]?.identifierValue { identities.insert(.hubSpotID(objectID)) }
        case .oneSignalMessage(_, let payload):
            for key in oneSignalKeys(payload, mapping: mapping) { identities.insert(key) }
        case .contactSynced(let contactID, let hubSpotID, _):
            contactIDs.insert(contactID)
            identities.insert(.hubSpotID(hubSpotID))
        case .userSynced(let contactID, _, _), .deliveryFailed(_, let contactID, _, _):
            contactIDs.insert(contactID)
        case .companySynced(let groupID, let hubSpotID, _):
            companyKeys.insert(.groupID(groupID))
            companyKeys.insert(IdentityKey(kind: "hubspot_id", value: hubSpotID))
        case .companyFailed(let groupID, _):
            companyKeys.insert(.groupID(groupID))
        case .associationSynced(let contactID, let groupID):
            contactIDs.insert(contactID)
            companyKeys.insert(.groupID(groupID))
        case .replayRequested(_, _, let ids), .erasure(let ids):
            for id in ids { contactIDs.insert(id) }
        case .ignored:
            break
        }
    }
}

/// The identities a Segment message names, most decisive first: userId, email (traits or context.traits), anonymousId.
func segmentKeys(_ message: [String: JSONValue], traits: [String: JSONValue]) -> [IdentityKey] {
    var keys: [IdentityKey] = []
    if let userID = message["userId"]?.identifierValue { keys.append(.userID(userID)) }
    if let email = traits["email"]?.stringValue.flatMap(IdentityKey.normalizedEmail) { keys.append(.email(email)) }
    if let anonymousID = message["anonymousId"]?.identifierValue { keys.append(.anonymousID(anonymousID)) }
    return keys
}

/// The contact traits a Segment message carries: identify `traits` over `context.traits` (RudderStack sends only the latter).
func segmentTraits(_ message: [String: JSONValue]) -> [String: JSONValue] {
    let context = message["context"]?["traits"]?.objectValue
    guard message["type"]?.stringValue == "identify", let own = message["traits"]?.objectValue else { return context ?? [:] }
    guard var traits = context, !traits.isEmpty else { return own }
    traits.merge(own) { _, new in new }
    return traits
}

/// The identities of a HubSpot contact webhook event: the HubSpot id(s), and the email when the email changed.
func hubSpotContactKeys(_ payload: [String: JSONValue]) -> [IdentityKey] {
    var keys: [IdentityKey] = []
    if let objectID = payload["objectId"]?.identifierValue ?? payload["primaryObjectId"]?.identifierValue {
        keys.append(.hubSpotID(objectID))
    }
    if case .array(let merged)? = payload["mergedObjectIds"] {
        keys.append(contentsOf: merged.compactMap { $0.identifierValue.map(IdentityKey.hubSpotID) })
    }
    if payload["propertyName"]?.stringValue == "email",
        let email = payload["propertyValue"]?.stringValue.flatMap(IdentityKey.normalizedEmail)
    {
        keys.append(.email(email))
    }
    return keys
}

/// The identities of a OneSignal message event: the external id (a userId or an email, as the mapping matches users) and
/// the OneSignal user id.
func oneSignalKeys(_ payload: [String: JSONValue], mapping: Mapping) -> [IdentityKey] {
    var keys: [IdentityKey] = []
    if let externalID = oneSignalField(payload, "external_id", "event.external_id") {
        switch mapping.oneSignal.matchBy {
        case .externalID: keys.append(.userID(externalID))
        case .email: if let email = IdentityKey.normalizedEmail(externalID) { keys.append(.email(email)) }
        }
    }
    if let oneSignalID = oneSignalField(payload, "onesignal_id", "event.onesignal_id") { keys.append(.oneSignalID(oneSignalID)) }
    return keys
}

/// The company identities of a group call, most decisive first: the group id, and the domain of `traits.website`
/// when the mapping derives domains.
func groupCallCompanyKeys(_ message: [String: JSONValue], mapping: Mapping) -> [IdentityKey] {
    guard let groupID = message["groupId"]?.identifierValue else { return [] }
    var keys: [IdentityKey] = [.groupID(groupID)]
    if mapping.companies.domainFromWebsite, let website = message["traits"]?["website"]?.stringValue,
        let domain = CompanyRules.domain(fromWebsite: website)
    {
        keys.append(.domain(domain))
    }
    return keys
}
