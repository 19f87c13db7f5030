import Domain
import Foundation
import Mapping

// How a contact matches its OneSignal user: the external id, from the HubSpot property the mapping names
// (`onesignal.external_id_property`), else the Segment `userId` (or the email, with `match_by: email`).

extension IdentityKey {
    /// A OneSignal external id held by a HubSpot contact property (`onesignal.external_id_property`).
    static func externalID(_ value: String) -> IdentityKey { IdentityKey(kind: IdentityKeys.Name.externalID.rawValue, value: value) }
}

extension ContactRecord {
    /// The external id OneSignal knows the contact by, `nil` when it has none yet: the value of the HubSpot property
    /// `onesignal.external_id_property` (as changed in HubSpot, else as HubSignal writes it there), else the `userId`
    /// (`match_by: external_id`) or the email (`match_by: email`). `DeliveryLedger.claimOneSignalUsers` reads the same
    /// columns in the same order.
    func oneSignalExternalID(mapping: Mapping) -> String? {
        if let property = mapping.oneSignal.externalIDProperty {
            for value in [hubSpotValues[property], PeopleTables.hubSpotProperties(of: self, mapping: mapping)[property]] {
                if let text = value?.scalarText?.trimmingCharacters(in: .whitespaces), !text.isEmpty { return text }
            }
        }
        switch mapping.oneSignal.matchBy {
        case .externalID: return userID
        case .email: return email
        }
    }
}

/// The identities of a HubSpot contact webhook event (`IdentityKeys.hubSpotContactWebhook(externalIDProperty:)`): the
/// HubSpot id(s), the email when the email changed, and the external id when the mapping's external id property changed.
func hubSpotContactKeys(_ payload: [String: JSONValue], type: EventType, mapping: Mapping) -> [IdentityKey] {
    var keys: [IdentityKey] = []
    IdentityKeys.hubSpotContactWebhook(externalIDProperty: mapping.oneSignal.externalIDProperty).forEachName(in: payload, type: type) {
        name, value in
        if let key = IdentityKey(name, value) {
            keys.append(key)
        } else if name == .externalID, !value.trimmingCharacters(in: .whitespaces).isEmpty {
            keys.append(.externalID(value.trimmingCharacters(in: .whitespaces)))
        }
    }
    return keys
}

extension PeopleState {
    /// The identities a OneSignal event's external id resolves to, from the candidates `oneSignalKeys` listed (and the
    /// projection loaded). With `onesignal.external_id_property`, the external id names a contact by that property
    /// (`external_id`) or by its `userId` (its email, with `match_by: email`): the property's contact when known, else
    /// the other's, else both (a new contact that either a later HubSpot property change or a Segment call finds).
    func resolvingOneSignalKeys(_ keys: [IdentityKey], mapping: Mapping) -> [IdentityKey] {
        guard mapping.oneSignal.externalIDProperty != nil else { return keys }
        let external = IdentityKeys.Name.externalID.rawValue
        let fallbacks: Set<String> = [IdentityKeys.Name.userID.rawValue, IdentityKeys.Name.email.rawValue]
        let byProperty = keys.contains { $0.kind == external && identities[$0] != nil }
        let byFallback = keys.contains { fallbacks.contains($0.kind) && identities[$0] != nil }
        return keys.filter { key in
            if fallbacks.contains(key.kind) && byProperty { return false }
            if key.kind == external && !byProperty && byFallback { return false }
            return true
        }
    }
}
