import Domain
import EventStore
import Foundation
import HubSpot
import Ingestion
import OneSignal
import PQ

/// Completes HubSpot workflow actions (`POST /automation/v4/actions/callbacks/{callbackId}/complete`): how a
/// "Send OneSignal notification" action that answered `BLOCK` tells HubSpot how it ended.
public struct WorkflowActionCompleter: Sendable {
    let complete: @Sendable (_ callbackID: String, _ outputFields: [String: String]) async throws -> Void

    /// - Parameter complete: sends the completion; throws a `HubSpotError` (or another error) when it fails.
    public init(_ complete: @escaping @Sendable (_ callbackID: String, _ outputFields: [String: String]) async throws -> Void) {
        self.complete = complete
    }
}

extension OneSignalSync {
    /// Notifications claimed per round.
    static let notificationBatch = 50

    /// Sends a batch of workflow notifications and completes their workflow actions. Returns how many were claimed.
    ///
    /// Per notification: find the recipient (the action's `external_id`, else the contact by email or HubSpot id in
    /// the read models), record `OneSignalNotificationRequested`, send with an idempotency key derived from
    /// HubSpot's callback id (OneSignal sends a key at most once in 30 days: a retried workflow, a retried send after a
    /// timeout, a second worker never send twice), record `notification_sent` / `notification_failed` with OneSignal's
    /// answer, then complete the HubSpot action (`SUCCESS` with `notification_id`, or `FAIL_CONTINUE` with
    /// `error_message`) and record `HubSpotActionCompleted`.
    ///
    /// An action older than ``OneSignalOutbox/maximumAge`` (one day, from HubSpot's call) is never sent, whenever its
    /// turn comes — after an outage, or retries of `401`/`403` that an operator did not fix in time — and HubSpot no
    /// longer waits for its completion: it becomes a dead letter, recorded as `notification_failed` (not sent) or
    /// `action_completion_failed` (sent, not completed) with the reason.
    func sendNotifications() async throws -> Int {
        let claimed = try await ledger.claimNotifications(
            app: configuration.app, limit: Self.notificationBatch, lease: configuration.lease, owner: configuration.owner, holder: claimToken)
        guard !claimed.isEmpty else { return 0 }
        var outcomes: [String: DeliveryLedger.Outcome] = [:]
        var events: [NewEvent] = []
        for notification in claimed {
            do {
                let (outcome, finished) = try await deliver(notification)
                outcomes[notification.callbackID] = outcome
                events += finished
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                logger.warning("sending a workflow notification failed; retrying", metadata: ["error": "\(error)"])
                outcomes[notification.callbackID] = .retry(
                    after: configuration.retry.delay(afterAttempts: notification.attempts + 1), reason: "\(error)")
            }
        }
        try await ledger.finishNotifications(outcomes: outcomes, events: events, owner: configuration.owner, holder: claimToken, store: store)
        return claimed.count
    }

    /// One notification: send it unless it went out already, then complete the workflow action.
    private func deliver(_ notification: DeliveryLedger.ClaimedNotification) async throws -> (DeliveryLedger.Outcome, [NewEvent]) {
        var result = notification.result
        let expired = Date().timeIntervalSince(notification.receivedAt) >= OneSignalOutbox.maximumAge
        if result == nil, expired {
            let reason = "not sent: the workflow action is older than a day (HubSpot called it at "
                + "\(ISO8601Timestamp.format(notification.receivedAt))) and HubSpot no longer waits for it"
            let payload = OneSignalNotificationFailed(
                callbackID: notification.callbackID, app: configuration.app, hubSpotObjectID: notification.hubSpotObjectID, request: nil,
                reason: reason, expiredAfterAttempts: notification.attempts)
            logger.warning("a workflow notification expired unsent; it is a dead letter", metadata: ["callback": "\(notification.callbackID)"])
            let event = notificationEvent(payload, notification)
            return (.dead(desiredHash: "", reason: reason), [event])
        }
        if result == nil {
            switch try await send(notification) {
            case .recorded(let answer): result = answer
            case .later(let outcome): return (outcome, [])
            }
        }
        guard let result else { return (.done(desiredHash: ""), []) }
        guard let completer else { return (.done(desiredHash: ""), []) }
        var fields: [String: String] = [:]
        if let id = result["notification_id"]?.stringValue {
            fields = ["hs_execution_state": "SUCCESS", "notification_id": id, "recipients": result["recipients"]?.scalarText ?? "0"]
        } else if result["tags_edited"] != nil {
            // An edit-tags action OneSignal applied (OneSignalSync+TagEdits.swift).
            fields = ["hs_execution_state": "SUCCESS"]
        } else {
            fields = ["hs_execution_state": "FAIL_CONTINUE", "error_message": String((result["error"]?.stringValue ?? "not sent").prefix(500))]
        }
        do {
            try await completer.complete(notification.callbackID, fields)
        } catch let error as HubSpotError where !error.isRetryable && error.code != .unauthorized && error.code != .forbidden {
            // HubSpot no longer waits for it (expired, unknown callback): the notification itself is done.
            let event = notificationEvent(HubSpotActionCompletionFailed(callbackID: notification.callbackID, reason: error.reason), notification)
            return (.done(desiredHash: ""), [event])
        } catch {
            let attempts = notification.attempts + 1
            let hubSpotError = error as? HubSpotError
            let reason = "completing the HubSpot action: \(hubSpotError?.reason ?? "\(error)")"
            if expired {
                // HubSpot stopped waiting for the action a day after calling it: retrying (a 401/403 the operator has
                // not fixed) would go on forever.
                let final = reason + "; given up: the workflow action is older than a day and HubSpot no longer waits for it"
                let event = notificationEvent(
                    HubSpotActionCompletionFailed(callbackID: notification.callbackID, reason: final, isExpired: true), notification)
                return (.dead(desiredHash: "", reason: final), [event])
            }
            return (.retry(after: configuration.retry.delay(afterAttempts: attempts, atLeast: hubSpotError?.retryAfter), reason: reason), [])
        }
        let completed = HubSpotActionCompleted(callbackID: notification.callbackID, outputFields: fields)
        return (.done(desiredHash: ""), [notificationEvent(completed, notification)])
    }

    enum SendResult {
        /// OneSignal's answer (or the reason nothing can be sent), recorded on the outbox row and in the log.
        case recorded([String: JSONValue])
        /// Not now: retry or postpone.
        case later(DeliveryLedger.Outcome)
    }

    private func send(_ notification: DeliveryLedger.ClaimedNotification) async throws -> SendResult {
        // Erased since it was claimed (`hubsignal erase`, a privacy deletion deletes the outbox row): nothing is sent.
        guard try await ledger.isQueued(notification) else { return .later(.done(desiredHash: "")) }
        if notification.isTagEdit { return try await editTags(notification) }
        let byEmail = mapping.oneSignal.matchBy == .email
        let content: WorkflowNotification.Rendered
        do {
            content = try Self.content(of: notification)
        } catch {
            return try await recordFailure(notification, reason: "not sent: \(error.message)", requested: nil)
        }
        let externalID = try await ledger.externalID(
            for: notification, byEmail: byEmail, externalIDProperty: mapping.oneSignal.externalIDProperty)
        // The contact may simply not be projected yet: its external id may come with it.
        if externalID == nil, try await !ledger.projected(past: notification.position) {
            return .later(.postpone(after: .milliseconds(500)))
        }
        // Without an external id, a push can go to the OneSignal user whose email subscription is the contact's email.
        var pushToEmail: String?
        if externalID == nil, mapping.oneSignal.pushByEmail, content.channel == .push {
            pushToEmail = try await ledger.email(for: notification)
        }
        guard externalID != nil || pushToEmail != nil else {
            let reason = "the HubSpot contact has no OneSignal external id: HubSignal knows no \(byEmail ? "email" : "userId") for it (map the input external_id or email from a contact property)"
            return try await recordFailure(notification, reason: reason, requested: nil)
        }
        var request = Self.oneSignalRequest(
            content, externalID: externalID ?? "", callbackID: notification.callbackID,
            idempotencyKey: HubSpotEventOutbox.uuid(from: "onesignal-notification:\(notification.callbackID)"))
        if let pushToEmail { request.filters = [["field": "email", "relation": "=", "value": pushToEmail]] }
        let requested = OneSignalNotificationRequested.Request(
            externalID: externalID ?? "", idempotencyKey: request.idempotencyKey, targetChannel: request.targetChannel,
            templateID: content.templateID, heading: content.heading, content: content.content ?? content.smsBody, url: content.url,
            subtitle: content.subtitle, imageURL: content.imageURL, emailSubject: content.emailSubject, emailBody: content.emailBody,
            emailFromName: content.emailFromName, pushToEmail: pushToEmail)
        if notification.attempts == 0 {
            let event = OneSignalNotificationRequested(
                callbackID: notification.callbackID, app: configuration.app, hubSpotObjectID: notification.hubSpotObjectID, request: requested)
            try await ledger.recordNotification(
                callbackID: notification.callbackID, result: nil, events: [notificationEvent(event, notification)], store: store)
        }
        let answer: OneSignalNotificationResult
        do {
            answer = try await client.createNotification(request)
        } catch let error as OneSignalError where error.isRetryable || error.code == .unauthorized {
            let attempts = notification.attempts + 1
            guard attempts < configuration.retry.maximumAttempts || error.code == .unauthorized else {
                return try await recordFailure(notification, reason: "gave up after \(attempts) attempts: \(error)", requested: requested)
            }
            return .later(.retry(after: configuration.retry.delay(afterAttempts: attempts, atLeast: error.retryAfter), reason: error.description))
        } catch let error as OneSignalError {
            return try await recordFailure(notification, reason: error.description, requested: requested)
        }
        guard let id = answer.id else {
            let reason = "OneSignal sent nothing: the recipient has no subscribed \(Self.channelName(content.channel)) in OneSignal"
                + (answer.errors.isEmpty ? "" : " (OneSignal: \(answer.errors.joined(separator: "; ")))")
            return try await recordFailure(notification, reason: reason, requested: requested)
        }
        let recipients = externalID.map { answer.invalidAliases.contains($0) } == true ? 0 : 1
        let result: [String: JSONValue] = [
            "notification_id": .string(id), "recipients": .int(Int64(recipients)), "replayed": .bool(answer.replayed),
            "errors": .array(answer.errors.map(JSONValue.string)),
        ]
        let sent = OneSignalNotificationSent(
            callbackID: notification.callbackID, app: configuration.app, hubSpotObjectID: notification.hubSpotObjectID, request: requested,
            notificationID: id, recipients: recipients, replayed: answer.replayed, errors: answer.errors)
        try await ledger.recordNotification(
            callbackID: notification.callbackID, result: result, events: [notificationEvent(sent, notification)], store: store)
        logger.info("sent a workflow notification", metadata: ["callback": "\(notification.callbackID)", "notification": "\(id)"])
        return .recorded(result)
    }

    /// The notification's content for its contact: the action's inputs (as queued) checked again and rendered with the
    /// contact properties HubSpot sent with the action. Throws `invalid_action` for a text HubSignal cannot send (an
    /// action queued before its inputs were checked as today, or a URL that renders invalid for this contact).
    static func content(of notification: DeliveryLedger.ClaimedNotification) throws(IngestionError) -> WorkflowNotification.Rendered {
        var inputs = notification.request
        let properties = inputs.removeValue(forKey: "properties")?.objectValue ?? [:]
        return try WorkflowNotification(inputs: inputs).rendered(for: MessageTemplate.properties(properties))
    }

    /// The `POST /notifications` body for `content`, to the user with `externalID` on the content's channel.
    static func oneSignalRequest(
        _ content: WorkflowNotification.Rendered, externalID: String, callbackID: String, idempotencyKey: String
    ) -> OneSignalNotificationRequest {
        var request = OneSignalNotificationRequest(
            includeAliases: ["external_id": [externalID]], targetChannel: content.channel.rawValue, templateID: content.templateID,
            name: "HubSpot workflow action \(callbackID.prefix(96))", idempotencyKey: idempotencyKey)
        switch content.channel {
        case .push:
            request.headings = content.heading.map { ["en": $0] }
            request.subtitle = content.subtitle.map { ["en": $0] }
            request.contents = content.content.map { ["en": $0] }
            request.url = content.url
            if let image = content.imageURL {
                request.bigPicture = image
                request.chromeWebImage = image
                request.iosAttachments = ["image": image]
            }
        case .email:
            request.emailSubject = content.emailSubject
            request.emailBody = content.emailBody
            request.emailFromName = content.emailFromName
        case .sms:
            request.contents = content.smsBody.map { ["en": $0] }
        }
        return request
    }

    /// "push subscription", "email subscription", "SMS subscription".
    static func channelName(_ channel: WorkflowNotification.Channel) -> String {
        switch channel {
        case .push: return "push subscription"
        case .email: return "email subscription"
        case .sms: return "SMS subscription"
        }
    }

    private func recordFailure(
        _ notification: DeliveryLedger.ClaimedNotification, reason: String, requested: OneSignalNotificationRequested.Request?
    ) async throws -> SendResult {
        let failed = OneSignalNotificationFailed(
            callbackID: notification.callbackID, app: configuration.app, hubSpotObjectID: notification.hubSpotObjectID, request: requested,
            reason: reason)
        let result: [String: JSONValue] = ["error": .string(reason)]
        try await ledger.recordNotification(
            callbackID: notification.callbackID, result: result, events: [notificationEvent(failed, notification)], store: store)
        logger.warning("a workflow notification was not sent; the reason is in the event log", metadata: ["callback": "\(notification.callbackID)"])
        return .recorded(result)
    }

    /// An event about a workflow notification, on the stream of the HubSpot contact, keyed by its callback id.
    func notificationEvent<Payload: EventPayload>(_ payload: Payload, _ notification: DeliveryLedger.ClaimedNotification) -> NewEvent {
        resultEvent(
            payload, stream: "hubspot-contact:\(notification.hubSpotObjectID)",
            idempotencyKey: "\(Payload.eventType):\(notification.callbackID)")
    }
}
