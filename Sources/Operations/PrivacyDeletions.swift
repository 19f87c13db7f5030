import Domain
import EventStore
import Foundation
import Logging
import PQ
import ServiceLifecycle

/// The `privacy-deletions` subscription: runs `Erasure` (without forwarding) for the contact of each HubSpot
/// `contact.privacyDeletion` webhook, by its HubSpot id. Unknown or already erased people are skipped; an erasure that a
/// retry would not fix becomes a dead letter in `erasure_failures` (shown by `hubsignal status`), an unreachable
/// database fails the batch (retried). It starts at the end of the log the first time it runs.
public struct PrivacyDeletions: Service {
    /// The subscription's name (its checkpoint), also how `hubsignal status` shows its dead letters.
    public static let name = "privacy-deletions"
    let subscription: Subscription

    public init(store: EventStore, watcher: LogWatcher = LogWatcher(), logger: Logger) {
        var configuration = Subscription.Configuration(name: Self.name)
        configuration.startPosition = .current
        configuration.batchSize = 100
        let erasure = Erasure(client: store.client, store: store)
        subscription = Subscription(configuration: configuration, store: store, watcher: watcher, logger: logger) { events, _ in
            for event in events where event.type == .hubSpotContactPrivacyDeletion {
                guard let payload = (try? JSONValue.parse(event.payload.bytes))?.objectValue,
                    let objectID = IdentityKeys.hubSpotContactWebhook.first(.hubSpotID, in: payload, type: event.type)
                else { continue }
                do {
                    let report = try await erasure.erase(.hubSpotID(objectID))
                    logger.notice(
                        "erased a person HubSpot deleted for privacy",
                        metadata: ["erasure": "\(report.erasureID)", "events": "\(report.events)"])
                } catch let error as ErasureError where error.isUnknownPerson {
                    logger.info("a HubSpot privacy deletion names no contact HubSignal knows", metadata: ["reason": "\(error)"])
                } catch let error as PQError where error.isRetryable {
                    throw error  // the database is unreachable or busy: the batch is retried
                } catch {
                    // Refused for good (a missing privilege, work that did not settle): a dead letter, not an endless retry.
                    let reason = "\(error)"
                    try await store.client.execute(
                        """
                        INSERT INTO erasure_failures (position, hubspot_object_id, reason) VALUES (\(event.position), \(objectID), \(reason))
                        ON CONFLICT (position) DO UPDATE SET reason = EXCLUDED.reason, failed_at = now()
                        """, name: "privacy_deletions.failed")
                    logger.error(
                        "a HubSpot privacy deletion could not be erased; recorded in erasure_failures (hubsignal status)",
                        metadata: ["position": "\(event.position)", "reason": "\(reason)"])
                }
            }
        }
    }

    public func run() async throws { try await subscription.run() }

    /// One batch (tests).
    @discardableResult
    public func processNextBatch() async throws -> Subscription.BatchOutcome { try await subscription.processNextBatch() }
}

extension PrivacyDeletions: CustomStringConvertible {
    public var description: String { "PrivacyDeletions" }
}
