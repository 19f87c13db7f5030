import Domain
import EventStore
import Foundation
import Ingestion
import OneSignal
import PQ
import Projections

extension OneSignalSync {
    /// With `audiences.onesignal_segments`, creates one OneSignal segment per audience (named like its tag, filtered on
    /// the tag existing: members have it, non-members do not) the first time a contact is in the audience. Each app
    /// keeps its own ledger rows (`segment:<app>`, key the audience); a segment OneSignal already has (`409`) counts as
    /// created. Recorded as `OneSignalSegmentCreated`. Returns how
    /// many audiences were claimed.
    func pushSegments() async throws -> Int {
        guard mapping.audiences.oneSignalSegments else { return 0 }
        let kind = DeliveryKind.segment(app: configuration.app)
        let candidates: PQQuery = """
            SELECT DISTINCT a.audience AS object_key FROM \(table: .audienceMemberships) a
            WHERE a.is_member AND NOT EXISTS (
                SELECT 1 FROM deliveries d
                WHERE d.destination = \(kind.destination) AND d.object_kind = \(kind) AND d.object_key = a.audience
                  AND NOT \(fragment: DeliveryLedger.ClaimRule.due.allows("d", desiredHash: "")))
            LIMIT 20
            """
        let claimed = try await ledger.claim(
            DeliveryLedger.claimStatement(
                candidates, kind: kind, rule: .due, lease: configuration.lease, owner: configuration.owner, holder: claimToken),
            name: "delivery.claim_onesignal_segments")
        guard !claimed.isEmpty else { return 0 }
        var outcomes: [String: DeliveryLedger.Outcome] = [:]
        var events: [NewEvent] = []
        for (audience, attempts) in claimed {
            let tag = mapping.audiences.oneSignalTag(forAudience: audience)
            var payload = OneSignalSegmentCreated(app: configuration.app, audience: audience, tag: tag)
            do {
                payload.segmentID = try await client.createSegment(name: tag, tagExists: tag)
            } catch let error as OneSignalError where error.code == .conflict {
                payload.existed = true
            } catch let error as OneSignalError where !error.isRetryable && error.code != .unauthorized {
                outcomes[audience] = .dead(desiredHash: "", reason: error.description)
                continue
            } catch {
                outcomes[audience] = .retry(
                    after: configuration.retry.delay(afterAttempts: attempts + 1, atLeast: (error as? OneSignalError)?.retryAfter),
                    reason: "\(error)")
                continue
            }
            outcomes[audience] = .done(desiredHash: "")
            events.append(
                resultEvent(
                    payload, stream: "audience:\(audience)",
                    idempotencyKey: "\(OneSignalSegmentCreated.eventType):\(configuration.app):\(audience)"))
        }
        try await ledger.finish(
            kind: kind, outcomes: outcomes, events: events, owner: configuration.owner, holder: claimToken,
            store: store)
        return claimed.count
    }
}
