import EventStore
import Foundation
import HubSpot
import Ingestion

extension HubSpotSync {
    /// Claims queued behavioral events and sends them (`/events/v3/send/batch`), each with a UUID derived from its
    /// Segment messageId so that a resend after a crash is not counted twice by HubSpot. An event whose contact has
    /// neither an email nor a HubSpot id yet waits (retried with backoff); one HubSpot refuses becomes a dead letter
    /// and a `hubsignal.hubspot.event_failed` event.
    func pushEvents() async throws -> Int {
        let claimed = try await ledger.claimHubSpotEvents(limit: configuration.batchSize, lease: configuration.lease, owner: configuration.owner)
        guard !claimed.isEmpty else { return 0 }
        var outcome = EventRound()
        var sendable: [DeliveryLedger.ClaimedEvent] = []
        for event in claimed {
            if event.hubSpotContactID == nil && event.email == nil {
                let attempts = event.attempts + 1
                let reason = "the contact has no email or HubSpot id yet"
                if attempts >= configuration.retry.maximumAttempts {
                    fail(event, reason: "gave up after \(attempts) attempts: \(reason)", into: &outcome)
                } else {
                    let delay = configuration.retry.delay(afterAttempts: attempts, atLeast: configuration.pollInterval)
                    outcome.outcomes[String(event.position)] = .retry(after: delay, reason: reason)
                }
            } else {
                sendable.append(event)
            }
        }
        await send(sendable, into: &outcome)
        try await ledger.finishEvents(
            sent: outcome.sent, outcomes: outcome.outcomes, events: outcome.events, owner: configuration.owner, store: store)
        if let error = outcome.lastError { await record(error: error) }
        return claimed.count
    }

    struct EventRound {
        var sent: [Int64] = []
        var outcomes: [String: DeliveryLedger.Outcome] = [:]
        var events: [NewEvent] = []
        var lastError: String?
    }

    private func send(_ batch: [DeliveryLedger.ClaimedEvent], into round: inout EventRound) async {
        guard !batch.isEmpty else { return }
        let occurrences = batch.map { event in
            HubSpotEventOccurrence(
                eventName: event.eventName, email: event.hubSpotContactID == nil ? event.email : nil,
                objectId: event.hubSpotContactID, occurredAt: ISO8601Timestamp.format(event.occurredAt), uuid: event.uuid,
                properties: event.properties)
        }
        do {
            try await client.send(occurrences)
            round.sent.append(contentsOf: batch.map(\.position))
        } catch let error as HubSpotError where error.code == .validation || error.code == .notFound {
            if batch.count > 1 {
                let middle = batch.count / 2
                await send(Array(batch[..<middle]), into: &round)
                await send(Array(batch[middle...]), into: &round)
            } else {
                fail(batch[0], reason: error.reason, into: &round)
            }
        } catch {
            round.lastError = Self.reason(error)
            for event in batch {
                let decision = decide(after: error, attempts: event.attempts + 1)
                if case .dead(_, let reason) = decision {
                    fail(event, reason: "gave up after \(event.attempts + 1) attempts: \(reason)", into: &round)
                } else {
                    round.outcomes[String(event.position)] = decision
                }
            }
        }
    }

    private func fail(_ event: DeliveryLedger.ClaimedEvent, reason: String, into round: inout EventRound) {
        round.outcomes[String(event.position)] = .dead(desiredHash: event.uuid, reason: reason)
        var payload: [String: JSONValue] = [
            "position": .int(event.position), "eventName": .string(event.eventName), "reason": .string(reason),
        ]
        if let contactID = event.contactID { payload["contactId"] = .string(contactID) }
        round.events.append(
            resultEvent(
                "hubsignal.hubspot.event_failed", stream: event.contactID.map { "contact:\($0)" } ?? "hubspot-events",
                idempotencyKey: "hubsignal.hubspot.event_failed:\(event.position)", payload: payload))
        logger.warning("HubSpot refused a behavioral event", metadata: ["position": "\(event.position)", "reason": "\(reason)"])
    }
}
