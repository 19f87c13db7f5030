import Domain
import EventStore
import Foundation
import Ingestion
import OneSignal
import PQ

extension OneSignalSync {
    /// With `audiences.onesignal_segments`, creates one OneSignal segment per audience (named like its tag, filtered on
    /// the tag existing: members have it, non-members do not) the first time a contact is in the audience. Each app
    /// keeps its own ledger rows (`segment:<app>`, key the audience); a segment OneSignal already has (`409`) counts as
    /// created. Recorded as `hubsignal.onesignal.segment_created` (`app`, `audience`, `tag`, `segmentId`). Returns how
    /// many audiences were claimed.
    func pushSegments() async throws -> Int {
        guard mapping.audiences.oneSignalSegments else { return 0 }
        let kind = "segment:\(configuration.app)"
        let claimed = try await database.query(
            """
            WITH candidates AS (
                SELECT DISTINCT a.audience FROM audience_memberships a
                WHERE a.is_member AND NOT EXISTS (
                    SELECT 1 FROM deliveries d
                    WHERE d.destination = 'onesignal' AND d.object_kind = \(kind) AND d.object_key = a.audience
                      AND (d.state IN ('done', 'dead') OR d.next_attempt_at > now()
                           OR NOT \(unsafeRaw: DeliveryLedger.claimLapsed("d"))))
                LIMIT 20
            )
            INSERT INTO deliveries AS d (destination, object_kind, object_key, state, next_attempt_at, leased_until, lease_owner,
                holder)
            SELECT 'onesignal', \(kind), audience, 'queued', now(), now() + make_interval(secs => \(DeliveryLedger.seconds(configuration.lease))),
                   \(configuration.owner), \(claimToken)::int8
            FROM candidates
            ON CONFLICT (destination, object_kind, object_key) DO UPDATE
                SET leased_until = EXCLUDED.leased_until, lease_owner = EXCLUDED.lease_owner, holder = EXCLUDED.holder,
                    attempts = CASE WHEN d.leased_until IS NOT NULL THEN greatest(d.attempts, 0) + 1 ELSE d.attempts END,
                    updated_at = now()
                WHERE d.state = 'queued' AND d.next_attempt_at <= now() AND \(unsafeRaw: DeliveryLedger.claimLapsed("d"))
            RETURNING object_key, attempts
            """, name: "delivery.claim_onesignal_segments")
        guard !claimed.isEmpty else { return 0 }
        var outcomes: [String: DeliveryLedger.Outcome] = [:]
        var events: [NewEvent] = []
        for row in claimed {
            let (audience, attempts) = try row.decode((String, Int32).self)
            let tag = mapping.audiences.oneSignalTag(forAudience: audience)
            var payload: [String: JSONValue] = ["app": .string(configuration.app), "audience": .string(audience), "tag": .string(tag)]
            do {
                if let id = try await client.createSegment(name: tag, tagExists: tag) { payload["segmentId"] = .string(id) }
            } catch let error as OneSignalError where error.code == .conflict {
                payload["existed"] = .bool(true)
            } catch let error as OneSignalError where !error.isRetryable && error.code != .unauthorized {
                outcomes[audience] = .dead(desiredHash: "", reason: error.description)
                continue
            } catch {
                outcomes[audience] = .retry(
                    after: configuration.retry.delay(afterAttempts: Int(attempts) + 1, atLeast: (error as? OneSignalError)?.retryAfter),
                    reason: "\(error)")
                continue
            }
            outcomes[audience] = .done(desiredHash: "")
            events.append(
                resultEvent(
                    .oneSignalSegmentCreated, stream: "audience:\(audience)",
                    idempotencyKey: "\(EventType.oneSignalSegmentCreated):\(configuration.app):\(audience)", payload: payload))
        }
        try await ledger.finish(
            kind: kind, destination: "onesignal", outcomes: outcomes, events: events, owner: configuration.owner, holder: claimToken,
            store: store)
        return claimed.count
    }
}
