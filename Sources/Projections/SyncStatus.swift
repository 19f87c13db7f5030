import Foundation
import Ingestion
import Mapping

/// One row of `sync_status`: the delivery state of a contact at one destination.
struct SyncStatusRow: Sendable {
    var destination: String
    var state: String
    var reason: String?
    var desired: [String: JSONValue]
    var acknowledged: [String: JSONValue]?
}

extension ContactRecord {
    /// The delivery state at HubSpot and OneSignal: desired (what the mapping derives now from traits and audience
    /// memberships) against acknowledged (what the destination last confirmed, from result events).
    ///
    /// - `waiting`: the contact cannot be matched there yet (HubSpot upserts by email; OneSignal by external id or
    ///   email, as the mapping says);
    /// - `failed`: the last delivery failed, until an acknowledgement or a change of traits;
    /// - `in_sync`: every desired value is acknowledged (nothing desired counts as in sync);
    /// - `pending`: otherwise.
    func syncStatus(hubSpotProperties: [String: JSONValue], mapping: Mapping) -> [SyncStatusRow] {
        var tags = mapping.oneSignal.tags(traits: traits).tags.mapValues { $0.map(JSONValue.string) ?? .null }
        var audienceTags: Set<String> = []
        for (audience, record) in audiences {
            let change = AudienceChange(audience: audience, isMember: record.isMember, status: record.status)
            let tag = mapping.audiences.oneSignalTag(forAudience: audience)
            tags[tag] = mapping.audiences.oneSignalValue(for: change).map(JSONValue.string) ?? .null
            audienceTags.insert(tag)
        }
        // The plan's tag limit counts audience tags too; they win over trait tags (dropped from the end, by name).
        var excess = tags.values.filter { $0 != .null }.count - mapping.oneSignal.tagLimit
        if excess > 0 {
            for name in tags.keys.sorted().reversed() where excess > 0 && !audienceTags.contains(name) && tags[name] != .null {
                tags[name] = nil
                excess -= 1
            }
        }
        let oneSignalKey: String?
        switch mapping.oneSignal.matchBy {
        case .externalID: oneSignalKey = userID
        case .email: oneSignalKey = email
        }
        return [
            Self.row(
                "hubspot", desired: hubSpotProperties, acknowledged: hubSpotAcknowledged, failure: hubSpotFailure,
                waitingReason: email == nil ? "HubSpot contacts are matched by email, and this contact has none yet" : nil),
            Self.row(
                "onesignal", desired: tags, acknowledged: oneSignalAcknowledged, failure: oneSignalFailure,
                waitingReason: oneSignalKey == nil
                    ? "OneSignal users are matched by \(mapping.oneSignal.matchBy == .email ? "email" : "external id (userId)"), and this contact has none yet"
                    : nil),
        ]
    }

    private static func row(
        _ destination: String, desired: [String: JSONValue], acknowledged: [String: JSONValue]?, failure: String?,
        waitingReason: String?
    ) -> SyncStatusRow {
        let state: String
        var reason: String?
        if let waitingReason {
            state = "waiting"
            reason = waitingReason
        } else if let failure {
            state = "failed"
            reason = failure
        } else if desired.allSatisfy({ key, value in (acknowledged?[key] ?? .null) == value }) {
            state = "in_sync"
        } else {
            state = "pending"
        }
        return SyncStatusRow(destination: destination, state: state, reason: reason, desired: desired, acknowledged: acknowledged)
    }
}
