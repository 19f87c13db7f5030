import Domain
import EventStore
import Foundation
import Ingestion
import Mapping

/// What one event means to the people projection, decoded once.
enum PeopleInput: Sendable {
    /// A Segment call, with its identities (most decisive first) and contact traits worked out once.
    case segment(type: EventType, message: [String: JSONValue], keys: [IdentityKey], traits: [String: JSONValue])
    case hubSpotContact(type: EventType, payload: [String: JSONValue])
    case hubSpotAction(type: EventType, payload: [String: JSONValue])
    /// A OneSignal message event; `kind` is the type after `onesignal.` (`message.push.clicked`).
    case oneSignalMessage(type: EventType, kind: String, payload: [String: JSONValue])
    /// HubSpot upserted a contact: its id and the property values it acknowledged.
    case contactSynced(HubSpotContactSynced)
    /// OneSignal acknowledged a user's tags (in `app`; the user by OneSignal id or external id when given).
    case userSynced(OneSignalUserSynced)
    /// A delivery to `destination` failed for good.
    case deliveryFailed(destination: Destination, contactID: String, reason: String, app: String?)
    /// HubSpot upserted a company: its id and the property values it acknowledged.
    case companySynced(HubSpotCompanySynced)
    /// HubSpot refused a company for good.
    case companyFailed(groupID: String, reason: String)
    /// HubSpot holds the association of a contact with a company.
    case associationSynced(contactID: String, groupID: String)
    /// `hubsignal replay`: forget what the destination (HubSpot, or OneSignal in one app or every app) acknowledged for
    /// these contacts, so their desired state is pushed again in full.
    case replayRequested(ReplayRequested)
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
        guard let parsed, let payload = parsed.objectValue else {
            self = .ignored
            return
        }
        if type.belongs(to: .segment) {
            self = .segment(type: type, message: payload, keys: segmentKeys(payload, type: type), traits: segmentTraits(payload))
        } else if type.belongs(to: .hubSpotContactWebhook) {
            self = .hubSpotContact(type: type, payload: payload)
        } else if type.belongs(to: .hubSpotAction) {
            self = .hubSpotAction(type: type, payload: payload)
        } else if type.belongs(to: .oneSignalMessage), let kind = type.oneSignalKind {
            self = .oneSignalMessage(type: type, kind: kind, payload: payload)
        } else {
            self = Self.result(type, parsed) ?? .ignored
        }
    }

    /// One of HubSignal's own events, decoded through its payload type; `nil` when it does not decode or names no one
    /// (a blank id).
    private static func result(_ type: EventType, _ json: JSONValue) -> PeopleInput? {
        switch type {
        case .hubSpotContactSynced:
            guard let synced = try? HubSpotContactSynced(json: json), !synced.id.isBlank, !synced.hubSpotID.isBlank else { return nil }
            return .contactSynced(synced)
        case .oneSignalUserSynced:
            guard let synced = try? OneSignalUserSynced(json: json), !synced.contactID.isBlank else { return nil }
            return .userSynced(synced)
        case .hubSpotDeliveryFailed:
            guard let failed = try? HubSpotDeliveryFailed(json: json) else { return nil }
            switch failed.subject {
            case .company(let groupID) where !groupID.isBlank: return .companyFailed(groupID: groupID, reason: failed.reason)
            case .contact(let id) where !id.isBlank: return .deliveryFailed(destination: .hubspot, contactID: id, reason: failed.reason, app: nil)
            default: return nil
            }
        case .oneSignalDeliveryFailed:
            guard let failed = try? OneSignalDeliveryFailed(json: json), !failed.contactID.isBlank else { return nil }
            return .deliveryFailed(destination: .onesignal, contactID: failed.contactID, reason: failed.reason, app: failed.app)
        case .hubSpotAssociationSynced:
            guard let synced = try? HubSpotAssociationSynced(json: json), !synced.contactID.isBlank, !synced.groupID.isBlank else { return nil }
            return .associationSynced(contactID: synced.contactID, groupID: synced.groupID)
        case .hubSpotCompanySynced:
            guard let synced = try? HubSpotCompanySynced(json: json), !synced.id.isBlank, !synced.hubSpotID.isBlank else { return nil }
            return .companySynced(synced)
        case .erasure:
            return (try? PersonErased(json: json)).map { .erasure(contactIDs: $0.contactIDs) }
        case .replayRequested:
            return (try? ReplayRequested(json: json)).map { .replayRequested($0) }
        default:
            return nil
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
            if let previous = previousID(message, type: type) {
                identities.insert(.userID(previous))
                identities.insert(.anonymousID(previous))
            }
            if type == .group { for key in groupCallCompanyKeys(message, mapping: mapping) { companyKeys.insert(key) } }
        case .hubSpotContact(let type, let payload):
            for key in hubSpotContactKeys(payload, type: type, mapping: mapping) { identities.insert(key) }
        case .hubSpotAction(let type, let payload):
            for key in hubSpotActionKeys(payload, type: type) { identities.insert(key) }
        case .oneSignalMessage(let type, _, let payload):
            for key in oneSignalKeys(payload, type: type, mapping: mapping) { identities.insert(key) }
        case .contactSynced(let synced):
            contactIDs.insert(synced.id)
            identities.insert(.hubSpotID(synced.hubSpotID))
        case .userSynced(let synced):
            contactIDs.insert(synced.contactID)
        case .deliveryFailed(_, let contactID, _, _):
            contactIDs.insert(contactID)
        case .companySynced(let synced):
            companyKeys.insert(.groupID(synced.id))
            companyKeys.insert(.hubSpotID(synced.hubSpotID))
        case .companyFailed(let groupID, _):
            companyKeys.insert(.groupID(groupID))
        case .associationSynced(let contactID, let groupID):
            contactIDs.insert(contactID)
            companyKeys.insert(.groupID(groupID))
        case .replayRequested(let replay):
            for id in replay.contactIDs { contactIDs.insert(id) }
        case .erasure(let ids):
            for id in ids { contactIDs.insert(id) }
        case .ignored:
            break
        }
    }
}

extension IdentityKey {
    /// The projection's key for a value `IdentityKeys` found; `nil` for names that are not identities of a person
    /// (`previous_id`, `external_id`, `contact_id`, `group_id`: their callers decide).
    init?(_ name: IdentityKeys.Name, _ value: String) {
        switch name {
        case .userID, .anonymousID, .email, .hubSpotID, .oneSignalID: self.init(kind: name.rawValue, value: value)
        case .previousID, .externalID, .contactID, .groupID: return nil
        }
    }
}

/// The identities a Segment message names, most decisive first: userId, email (identify traits, else context.traits),
/// anonymousId (`IdentityKeys.segment`).
func segmentKeys(_ message: [String: JSONValue], type: EventType) -> [IdentityKey] {
    keys(IdentityKeys.segment, message, type: type)
}

/// An alias's `previousId` (a previous userId or anonymousId).
func previousID(_ message: [String: JSONValue], type: EventType) -> String? {
    type == .alias ? IdentityKeys.segment.first(.previousID, in: message, type: type) : nil
}

/// The person identities `rule` finds in a payload, in the rule's order.
private func keys(_ rule: IdentityKeys.Rule, _ payload: [String: JSONValue], type: EventType) -> [IdentityKey] {
    var keys: [IdentityKey] = []
    keys.reserveCapacity(3)
    rule.forEachName(in: payload, type: type) { name, value in
        if let key = IdentityKey(name, value) { keys.append(key) }
    }
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

/// The identities of a HubSpot workflow action (`IdentityKeys.hubSpotAction`): the contact's HubSpot id.
func hubSpotActionKeys(_ payload: [String: JSONValue], type: EventType) -> [IdentityKey] {
    keys(IdentityKeys.hubSpotAction, payload, type: type)
}

/// The identities of a OneSignal message event (`IdentityKeys.oneSignal`): the external id (a userId or an email, as
/// the mapping matches users; with `onesignal.external_id_property` also that property's `external_id`, see
/// `PeopleState.resolvingOneSignalKeys`) and the OneSignal user id.
func oneSignalKeys(_ payload: [String: JSONValue], type: EventType, mapping: Mapping) -> [IdentityKey] {
    var keys: [IdentityKey] = []
    IdentityKeys.oneSignal.forEachName(in: payload, type: type) { name, value in
        guard name == .externalID else {
            if let key = IdentityKey(name, value) { keys.append(key) }
            return
        }
        switch mapping.oneSignal.matchBy {
        case .externalID:
            if mapping.oneSignal.externalIDProperty != nil { keys.append(.externalID(value)) }
            keys.append(.userID(value))
        case .email:
            if mapping.oneSignal.externalIDProperty != nil { keys.append(.externalID(value)) }
            if let email = IdentityKeys.normalizedEmail(value) { keys.append(.email(email)) }
        }
    }
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
