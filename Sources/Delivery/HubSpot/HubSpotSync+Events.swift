import Domain
import EventStore
import Foundation
import HubSpot
import Ingestion
import Mapping

extension HubSpotSync {
    /// Claims queued outbox rows and writes them: behavioral events (`/events/v3/send/batch`, each with a UUID derived
    /// from its Segment messageId or OneSignal event id, so a resend after a crash is not counted twice), notes and
    /// timeline events. Before the first send of an event name, its definition is made to exist with every property the
    /// batch carries (``HubSpotEventDefinitionCatalog``). A row whose contact HubSpot cannot be told about yet waits
    /// (retried with backoff); one HubSpot refuses (the occurrence, or the definition it needs) becomes a dead letter and
    /// a `HubSpotEventFailed` event.
    func pushEvents() async throws -> Int {
        let claimed = try await ledger.claimHubSpotEvents(
            limit: configuration.batchSize, lease: configuration.lease, owner: configuration.owner, holder: claimToken)
        guard !claimed.isEmpty else { return 0 }
        var outcome = EventRound()
        // A static-auth app has no timeline template: its timeline entries are written as notes (TimelineWriting).
        var entriesOrNotes = claimed
        if !TimelineWriting.canWriteTimelineEvents(usesOAuth: client.configuration.tokenSource != nil) {
            for index in entriesOrNotes.indices where entriesOrNotes[index].kind == .timelineEvent { entriesOrNotes[index].kind = .note }
        }
        // Custom object records (`custom_objects:` in the mapping): HubSpotSync+CustomObjects.swift.
        await writeCustomObjects(claimed.filter { $0.kind == .customObject }, into: &outcome)
        var behavioral: [DeliveryLedger.ClaimedEvent] = []
        var entries: [DeliveryLedger.ClaimedEvent] = []
        for event in entriesOrNotes where event.kind != .customObject {
            // Notes are associated by HubSpot id; events and timeline events can name the contact by email, and
            // behavioral events by the visitor's HubSpot user token too.
            let reachable = switch event.kind {
            case .note: event.hubSpotContactID != nil
            case .behavioralEvent: event.hubSpotContactID != nil || event.email != nil || event.utk != nil
            default: event.hubSpotContactID != nil || event.email != nil
            }
            if !reachable {
                let attempts = event.attempts + 1
                let reason = switch event.kind {
                case .note: "the contact is not in HubSpot yet"
                case .behavioralEvent: "the event names no contact HubSpot can find (HubSpot id, email or utk) yet"
                default: "the contact has no email or HubSpot id yet"
                }
                if attempts >= configuration.retry.maximumAttempts {
                    fail(event, reason: "gave up after \(attempts) attempts: \(reason)", into: &outcome)
                } else {
                    let delay = configuration.retry.delay(afterAttempts: attempts, atLeast: configuration.pollInterval)
                    outcome.outcomes[String(event.position)] = .retry(after: delay, reason: reason)
                }
            } else if event.kind == .behavioralEvent {
                behavioral.append(event)
            } else {
                entries.append(event)
            }
        }
        await send(await defined(behavioral, into: &outcome), into: &outcome)
        for entry in entries { await write(entry, into: &outcome) }
        try await ledger.finishEvents(
            sent: outcome.sent, outcomes: outcome.outcomes, events: outcome.events, owner: configuration.owner, holder: claimToken, store: store)
        if let error = outcome.lastError { await record(error: error) }
        return claimed.count
    }

    struct EventRound {
        var sent: [Int64] = []
        var outcomes: [String: DeliveryLedger.Outcome] = [:]
        var events: [NewEvent] = []
        var lastError: String?
    }

    /// The occurrences whose definitions are ready: for each event name in `batch`, makes sure HubSpot has its
    /// definition with every property the batch carries (typed from the values, `BehavioralEventRules.propertyType`).
    /// The occurrences of a definition HubSpot refuses become dead letters with HubSpot's reason; those of one that
    /// could not be checked (rate limit, timeout, `5xx`) wait for a retry.
    private func defined(_ batch: [DeliveryLedger.ClaimedEvent], into round: inout EventRound) async -> [DeliveryLedger.ClaimedEvent] {
        guard !batch.isEmpty else { return batch }
        guard let eventDefinitions else {
            for event in batch { fail(event, reason: "HUBSPOT_PORTAL_ID is not set: behavioral event names need it", into: &round) }
            return []
        }
        var ready: [DeliveryLedger.ClaimedEvent] = []
        for (eventName, occurrences) in Dictionary(grouping: batch, by: \.eventName).sorted(by: { $0.key < $1.key }) {
            var values: [String: [String]] = [:]
            for occurrence in occurrences {
                for (property, value) in occurrence.properties where !property.hasPrefix("hs_") { values[property, default: []].append(value) }
            }
            let known = await eventDefinitions.properties(of: eventName) ?? [:]
            var wanted: [String: String] = [:]
            for (property, propertyValues) in values where known[property] == nil {
                wanted[property] = BehavioralEventRules.propertyType(of: propertyValues)
            }
            do {
                try await eventDefinitions.ensure(eventName, properties: wanted)
                ready += occurrences
            } catch let refusal as HubSpotEventDefinitionCatalog.Refusal {
                for occurrence in occurrences { fail(occurrence, reason: refusal.reason, into: &round) }
            } catch {
                round.lastError = Self.reason(error)
                for occurrence in occurrences {
                    let decision = decide(after: error, attempts: occurrence.attempts + 1)
                    if case .dead(_, let reason) = decision {
                        fail(occurrence, reason: "gave up after \(occurrence.attempts + 1) attempts: \(reason)", into: &round)
                    } else {
                        round.outcomes[String(occurrence.position)] = decision
                    }
                }
            }
        }
        return ready.sorted { $0.position < $1.position }
    }

    private func send(_ batch: [DeliveryLedger.ClaimedEvent], into round: inout EventRound) async {
        guard !batch.isEmpty else { return }
        // The contact by its HubSpot id, else by email; the user token rides along when the call carried one (HubSpot
        // ties the visitor's page views to the same contact), and alone names the visitor.
        let occurrences = batch.map { event in
            var occurrence = HubSpotEventOccurrence(
                eventName: event.eventName, email: event.hubSpotContactID == nil ? event.email : nil,
                objectId: event.hubSpotContactID, occurredAt: ISO8601Timestamp.format(event.occurredAt), uuid: event.uuid,
                properties: event.properties)
            occurrence.utk = event.hubSpotContactID == nil ? event.utk : nil
            return occurrence
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
                // HubSpot may have lost or changed the definition: the next occurrence of the event asks it again.
                await eventDefinitions?.invalidate(batch[0].eventName)
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

    /// How long after taking over a note from a worker that died holding it HubSignal waits before looking for the
    /// note, beyond the destination timeout (by which the dead worker's request has landed or never will): HubSpot's
    /// search shows new objects a few seconds after they are written.
    static let noteSearchLag: Duration = .seconds(5)

    /// Writes one timeline entry: a Note, or a timeline event. A note has no idempotency key at HubSpot, so after an
    /// attempt whose outcome is unknown (a timeout, a dropped connection, a worker that died holding it) HubSignal first
    /// searches for the note by the token written in its body, and creates it only when it is not there. A note taken
    /// over from a dead worker is looked for only once that worker's request can no longer land unseen: a destination
    /// timeout plus ``noteSearchLag`` later.
    private func write(_ entry: DeliveryLedger.ClaimedEvent, into round: inout EventRound) async {
        let timestamp = ISO8601Timestamp.format(entry.occurredAt)
        if entry.kind == .note, entry.followsLostAttempt {
            round.outcomes[String(entry.position)] = .postpone(after: client.configuration.timeout + Self.noteSearchLag)
            return
        }
        do {
            if entry.kind == .note, let contact = entry.hubSpotContactID {
                let token = "hubsignal" + entry.uuid.replacingOccurrences(of: "-", with: "")
                if entry.attempts > 0, !(try await client.notes(containing: token)).isEmpty {
                    round.sent.append(entry.position)
                    return
                }
                _ = try await client.createNote(body: Self.noteBody(entry, token: token), timestamp: timestamp, contactID: contact)
            } else {
                try await client.createTimelineEvent(
                    templateID: entry.eventName, email: entry.hubSpotContactID == nil ? entry.email : nil,
                    objectID: entry.hubSpotContactID, id: entry.uuid, timestamp: timestamp, tokens: entry.properties)
            }
            round.sent.append(entry.position)
        } catch let error as HubSpotError where error.code == .validation || error.code == .notFound {
            fail(entry, reason: error.reason, into: &round)
        } catch {
            round.lastError = Self.reason(error)
            let decision = decide(after: error, attempts: entry.attempts + 1)
            if case .dead(_, let reason) = decision {
                fail(entry, reason: "gave up after \(entry.attempts + 1) attempts: \(reason)", into: &round)
            } else {
                round.outcomes[String(entry.position)] = decision
            }
        }
    }

    /// "OneSignal push clicked: “Sale ends tonight” — https://… (notification 1a2b…) · hubsignal<token>".
    static func noteBody(_ entry: DeliveryLedger.ClaimedEvent, token: String) -> String {
        let properties = entry.properties
        var text = "OneSignal \(properties["channel"] ?? "push") \(properties["kind"] ?? "message")"
        if let title = properties["title"] { text += ": “\(title)”" }
        if let url = properties["url"] { text += " — \(url)" }
        if let id = properties["notification_id"] { text += " (notification \(id))" }
        return text + " · " + token
    }

    private func fail(_ event: DeliveryLedger.ClaimedEvent, reason: String, into round: inout EventRound) {
        round.outcomes[String(event.position)] = .dead(desiredHash: event.uuid, reason: reason)
        round.events.append(
            resultEvent(
                HubSpotEventFailed(position: event.position, subject: .event(name: event.eventName), reason: reason, contactID: event.contactID),
                stream: event.contactID.map { "contact:\($0)" } ?? "hubspot-events",
                idempotencyKey: "\(HubSpotEventFailed.eventType):\(event.position)"))
        // HubSpot's reason can quote values (personal data): it goes to the ledger and the log of events, not to logs.
        logger.warning(
            "HubSpot refused an outbox entry; its reason is in deliveries.last_error",
            metadata: ["position": "\(event.position)", "kind": "\(event.kind.rawValue)"])
    }
}
