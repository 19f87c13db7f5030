import Domain
import EventStore
import Foundation
import OneSignal

extension DeliveryLedger.ClaimedNotification {
    /// Whether the row is an "Edit OneSignal tags" workflow action (its request holds `tags`) rather than a notification.
    var isTagEdit: Bool { request["tags"] != nil }
}

extension OneSignalSync {
    /// Carries out an "Edit OneSignal tags" workflow action queued in `onesignal_outbox` for this worker's app (the
    /// action's `app` input, else the first configured app).
    ///
    /// The user is the action's `external_id`, else the OneSignal match of the contact with the action's `email` or
    /// HubSpot id (`onesignal.external_id_property`, the `userId`, or the email with `match_by: email`); the tags go to
    /// that user only (`PATCH /apps/{app}/users/by/external_id/{id}`), one request. The outcome is recorded
    /// (`hubsignal.onesignal.tags_edited` or `tags_edit_failed`) and then reported to HubSpot (`SUCCESS`, or
    /// `FAIL_CONTINUE` with the reason): no match, a user OneSignal does not have (`404`: nothing is created), or a
    /// refusal (over the plan's tag limit, …). A contact the people projection has not read yet is postponed.
    func editTags(_ action: DeliveryLedger.ClaimedNotification) async throws -> SendResult {
        var tags: [String: String?] = [:]
        for (name, value) in action.request["tags"]?.objectValue ?? [:] { tags.updateValue(value.stringValue, forKey: name) }
        let byEmail = mapping.oneSignal.matchBy == .email
        guard
            let externalID = try await ledger.externalID(
                for: action, byEmail: byEmail, externalIDProperty: mapping.oneSignal.externalIDProperty)
        else {
            if try await !ledger.projected(past: action.position) { return .later(.postpone(after: .milliseconds(500))) }
            var reason = "no tags were changed: the HubSpot contact matches no OneSignal user (HubSignal knows no "
            if let property = mapping.oneSignal.externalIDProperty { reason += "\(property) value, " }
            reason += "\(byEmail ? "email" : "userId") for it; give the action's external_id or email input)"
            return try await recordTagEdit(action, externalID: nil, failure: reason)
        }
        do {
            guard try await client.updateTags(of: .externalID(externalID), tags) else {
                return try await recordTagEdit(
                    action, externalID: externalID,
                    failure: "no tags were changed: OneSignal app '\(configuration.app)' has no user with external id '\(externalID)'")
            }
        } catch let error as OneSignalError where error.isRetryable || error.code == .unauthorized {
            let attempts = action.attempts + 1
            guard attempts < configuration.retry.maximumAttempts || error.code == .unauthorized else {
                return try await recordTagEdit(action, externalID: externalID, failure: "gave up after \(attempts) attempts: \(error)")
            }
            return .later(.retry(after: configuration.retry.delay(afterAttempts: attempts, atLeast: error.retryAfter), reason: error.description))
        } catch let error as OneSignalError {
            return try await recordTagEdit(action, externalID: externalID, failure: Self.reason(error))
        }
        return try await recordTagEdit(action, externalID: externalID, edited: tags)
    }

    /// Records a tag edit's outcome (the event, and the result on the outbox row): `edited` tags, or the `failure`.
    private func recordTagEdit(
        _ action: DeliveryLedger.ClaimedNotification, externalID: String?, edited: [String: String?] = [:], failure: String? = nil
    ) async throws -> SendResult {
        let event: NewEvent
        let result: [String: JSONValue]
        if let failure {
            event = notificationEvent(
                OneSignalTagsEditFailed(
                    callbackID: action.callbackID, app: configuration.app, hubSpotObjectID: action.hubSpotObjectID, externalID: externalID,
                    reason: failure), action)
            result = ["error": .string(failure)]
            logger.warning("an edit-tags workflow action changed nothing; the reason is in the event log", metadata: ["callback": "\(action.callbackID)"])
        } else {
            let tags = edited.mapValues { $0.map(JSONValue.string) ?? .null }
            event = notificationEvent(
                OneSignalTagsEdited(
                    callbackID: action.callbackID, app: configuration.app, hubSpotObjectID: action.hubSpotObjectID,
                    externalID: externalID ?? "", tags: tags), action)
            result = ["tags_edited": .int(Int64(edited.count)), "external_id": .string(externalID ?? "")]
        }
        try await ledger.recordNotification(callbackID: action.callbackID, result: result, events: [event], store: store)
        return .recorded(result)
    }
}
