import Domain
import Foundation
import Ingestion
import Mapping

/// One row of `sync_status`: the delivery state of a contact at one destination.
struct SyncStatusRow: Sendable {
    /// A `Destination`'s raw value.
    var destination: String
    /// The OneSignal app's name; `""` for HubSpot.
    var app: String = ""
    var state: String
    var reason: String?
    var desired: [String: JSONValue]
    var acknowledged: [String: JSONValue]?
    /// Source key → why it is not sent. OneSignal: nested values, email/phone, over the tag limit, …; HubSpot: traits the
    /// mapping leaves out (by trait key or path) and values the sync left out (by property name: the property does not
    /// exist, HubSpot refused the value, HubSpot kept a later lifecycle stage).
    var dropped: [String: String] = [:]
}

extension ContactRecord {
    /// The delivery state at HubSpot and OneSignal: desired (what the mapping derives now from traits and audience
    /// memberships) against acknowledged (what the destination last confirmed, from result events).
    ///
    /// - `waiting`: the contact cannot be matched there yet (HubSpot upserts by email; OneSignal by external id or
    ///   email, as the mapping says);
    /// - `failed`: the last delivery failed, until an acknowledgement or a change of traits;
    /// - `in_sync`: every desired value is acknowledged, or was left out by the sync for a reason shown in `dropped`
    ///   (nothing desired counts as in sync);
    /// - `pending`: otherwise.
    ///
    /// OneSignal: one row per app the mapping's `onesignal.apps` rule sends the contact to, each with the app's tag limit.
    func syncStatus(hubSpotProperties: [String: JSONValue], mapping: Mapping) -> [SyncStatusRow] {
        let oneSignalKey = oneSignalExternalID(mapping: mapping)
        var hubSpotDropped = mapping.contacts.hubSpotProperties(from: traits).skipped
        hubSpotDropped.merge(self.hubSpotDropped) { _, fromSync in fromSync }
        var rows = [
            Self.row(
                .hubspot, desired: hubSpotProperties, acknowledged: hubSpotAcknowledged, failure: hubSpotFailure,
                dropped: hubSpotDropped, settled: Set(self.hubSpotDropped.keys),
                waitingReason: email == nil ? "HubSpot contacts are matched by email, and this contact has none yet" : nil)
        ]
        for app in mapping.oneSignalApps(traits: traits, writeKeyID: writeKeyID) {
            let acknowledged = oneSignalAcknowledged[app.name]
            let (tags, dropped) = oneSignalTags(mapping: mapping, tagLimit: mapping.tagLimit(of: app), acknowledged: acknowledged)
            var row = Self.row(
                .onesignal, desired: tags, acknowledged: acknowledged, failure: oneSignalFailures[app.name], dropped: dropped,
                waitingReason: oneSignalKey == nil
                    ? "OneSignal users are matched by \(mapping.oneSignal.externalIDProperty.map { "the HubSpot property \($0) or " } ?? "")\(mapping.oneSignal.matchBy == .email ? "email" : "external id (userId)"), and this contact has none yet"
                    : nil)
            row.app = app.name
            rows.append(row)
        }
        return rows
    }

    /// The OneSignal tags the contact should have, and the source keys left out with why.
    ///
    /// Sources, later ones winning for the same tag: identify traits (`onesignal` rules); HubSpot contact properties
    /// (`hubspot_to_onesignal`) whose value changed in HubSpot — a value HubSignal itself pushed there is its own
    /// echo and adds nothing, so nothing loops (nor does an echo replace a value HubSpot chose: the projection never
    /// records it, see `ContactRecord.isEchoOfHubSignal`); tags from track properties and HubSpot workflows ("Edit OneSignal
    /// tags") since the traits last gave that tag; one tag per audience. Then the plan's tag limit: tags are kept in the order
    /// `tag_priority`, audience tags, the rest by name; the others are dropped (reported) and, when HubSignal had set
    /// them, removed. Tags HubSignal set that no source gives any more are removed (`null`).
    func oneSignalTags(
        mapping: Mapping, tagLimit: Int, acknowledged: [String: JSONValue]?
    ) -> (tags: [String: JSONValue], dropped: [String: String]) {
        let rules = mapping.oneSignal
        let fromTraits = rules.tags(traits: traits, applyingLimit: false)
        var tags = fromTraits.tags.mapValues { $0.map(JSONValue.string) ?? .null }
        var dropped = fromTraits.dropped
        var sources: [String: String] = Dictionary(uniqueKeysWithValues: tags.keys.map { ($0, $0) })
        for (property, tag) in mapping.hubSpotToOneSignal.properties {
            guard let value = hubSpotValues[property] else { continue }
            let pushed = hubSpotAcknowledged?[property].flatMap(\.scalarText) ?? ""
            let current = value.scalarText ?? ""
            guard current != pushed || hubSpotAcknowledged?[property] == nil else { continue }
            tags[tag] = current.trimmingCharacters(in: .whitespaces).isEmpty ? .null : .string(current)
            sources[tag] = "hubspot:\(property)"
        }
        for (tag, value) in oneSignalEventTags {
            tags[tag] = value
            sources[tag] = "event:\(tag)"
        }
        var audienceTags: Set<String> = []
        for (audience, record) in audiences {
            let change = AudienceChange(audience: audience, isMember: record.isMember, status: record.status)
            let tag = mapping.audiences.oneSignalTag(forAudience: audience)
            tags[tag] = mapping.audiences.oneSignalValue(for: change).map(JSONValue.string) ?? .null
            audienceTags.insert(tag)
            sources[tag] = "audience:\(audience)"
        }
        var kept = 0
        for tag in rules.budgetOrder(tags.keys, preferred: audienceTags) where tags[tag] != .null {
            if kept < tagLimit {
                kept += 1
            } else {
                tags[tag] = .null
                dropped[sources[tag] ?? tag] = "over the tag limit of \(tagLimit) (tag '\(tag)')"
            }
        }
        // Tags HubSignal set that nothing gives now: removed, so they stop spending the budget.
        for (tag, value) in acknowledged ?? [:] where tags[tag] == nil && value != .null {
            tags[tag] = .null
        }
        // A removal of a tag OneSignal never had from HubSignal is no change: leave it out unless a source gave it.
        return (tags, dropped)
    }

    private static func row(
        _ destination: Destination, desired: [String: JSONValue], acknowledged: [String: JSONValue]?, failure: String?,
        dropped: [String: String] = [:], settled: Set<String> = [], waitingReason: String?
    ) -> SyncStatusRow {
        let state: String
        var reason: String?
        if let waitingReason {
            state = "waiting"
            reason = waitingReason
        } else if let failure {
            state = "failed"
            reason = failure
        } else if desired.allSatisfy({ key, value in settled.contains(key) || (acknowledged?[key] ?? .null) == value }) {
            state = "in_sync"
        } else {
            state = "pending"
        }
        return SyncStatusRow(
            destination: destination.rawValue, state: state, reason: reason, desired: desired, acknowledged: acknowledged, dropped: dropped)
    }
}
