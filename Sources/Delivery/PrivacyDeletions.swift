import EventStore
import Foundation
import Ingestion
import Logging
import PQ
import ServiceLifecycle

/// Erases the people HubSpot reports as deleted for privacy (`contact.privacyDeletion` webhooks, stored as
/// `hubspot.webhook.contact.privacyDeletion`): the `privacy-deletions` subscription runs `Erasure` for the contact with
/// that HubSpot id, as `hubsignal erase` does (without forwarding: HubSpot asked for it, and OneSignal is left to the
/// operator). A person HubSignal does not know, or already erased, is skipped. It starts at the end of the log the
/// first time it runs.
public struct PrivacyDeletions: Service {
    public static let name = "privacy-deletions"
    let subscription: Subscription

    public init(store: EventStore, watcher: LogWatcher = LogWatcher(), logger: Logger) {
        var configuration = Subscription.Configuration(name: Self.name)
        configuration.startPosition = .current
        configuration.batchSize = 100
        let erasure = Erasure(client: store.client, store: store)
        subscription = Subscription(configuration: configuration, store: store, watcher: watcher, logger: logger) { events, _ in
            for event in events where event.type == "hubspot.webhook.contact.privacyDeletion" {
                guard let objectID = (try? JSONValue.parse(event.payload.bytes))?["objectId"]?.identifierValue else { continue }
                do {
                    let report = try await erasure.erase(.hubSpotID(objectID))
                    logger.notice(
                        "erased a person HubSpot deleted for privacy",
                        metadata: ["erasure": "\(report.erasureID)", "events": "\(report.events)"])
                } catch let error as ErasureError {
                    logger.info("a HubSpot privacy deletion names no contact HubSignal knows", metadata: ["reason": "\(error)"])
                }
            }
        }
    }

    public func run() async throws { try await subscription.run() }

    /// One batch (tests).
    @discardableResult
    public func processNextBatch() async throws -> Subscription.BatchOutcome { try await subscription.processNextBatch() }
}
