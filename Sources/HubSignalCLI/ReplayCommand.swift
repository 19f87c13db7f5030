import App
import ArgumentParser
import Delivery
import Domain
import EventStore
import Foundation
import Ingestion
import Operations
import PQ

/// `hubsignal replay`: push contacts' desired state to a destination again, in full.
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Push contacts' desired state to HubSpot or OneSignal again, in full (a contact, or the contacts seen in a time window).",
        discussion: """
            HubSignal forgets what the destination acknowledged for those contacts (recorded in the log as \
            \(EventType.replayRequested)), so the running sync sends every desired value again; upserts make this harmless. \
            Behavioral events, timeline entries and notifications are events, not state: they are not resent. \
            `serve` must be running (with the destination configured) for the push to happen.
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: "hubspot, onesignal (every app) or onesignal:<app>.") var destination: String
    @Option(help: "A contact_id (repeatable).") var contact: [String] = []
    @Option(help: "A contact's Segment userId (repeatable).") var userId: [String] = []
    @Option(help: "A contact's email (repeatable).") var email: [String] = []
    @Option(help: "Contacts seen since this time (ISO 8601, e.g. 2026-11-30T00:00:00Z).") var since: String?
    @Option(help: "…and before this time (ISO 8601; default now).") var until: String?
    @Flag(help: "Only print how many contacts would be replayed.") var dryRun = false

    func validate() throws {
        let oneSignalApp = "\(Destination.onesignal):"
        guard Destination(rawValue: destination) != nil || (destination.hasPrefix(oneSignalApp) && destination.count > oneSignalApp.count) else {
            throw ValidationError("the destination must be hubspot, onesignal or onesignal:<app>, not '\(destination)'")
        }
        let named = !contact.isEmpty || !userId.isEmpty || !email.isEmpty
        guard named != (since != nil) else {
            throw ValidationError("name contacts (--contact, --user-id, --email) or a time window (--since [--until]), not both")
        }
        if let since, ISO8601Timestamp.parse(since) == nil { throw ValidationError("--since \(since) is not an ISO 8601 time") }
        if let until, ISO8601Timestamp.parse(until) == nil { throw ValidationError("--until \(until) is not an ISO 8601 time") }
    }

    func run() async throws {
        let (configuration, logger) = try prepare(options, requireDatabase: true)
        let client = HubSignalService.makeClient(configuration, logger: logger)
        do {
            let replay = Replay(client: client, store: EventStore(client: client, logger: logger))
            var ids = contact
            let named: [(IdentityKeys.Name, [String])] = [(.userID, userId), (.email, email.compactMap(IdentityKeys.normalizedEmail))]
            for (kind, values) in named where !values.isEmpty {
                ids += try await client.query(
                    "SELECT contact_id FROM identities WHERE kind = \(kind.rawValue) AND value = ANY(\(values)::text[])",
                    name: "replay.identities")
                    .map { try $0.decode(String.self, at: 0) }
            }
            let selection: Replay.Selection =
                since.flatMap(ISO8601Timestamp.parse).map { .seen(since: $0, until: until.flatMap(ISO8601Timestamp.parse) ?? Date()) }
                ?? .contacts(ids)
            let contacts = try await replay.contacts(selection)
            if dryRun {
                print("\(contacts.count) contact(s) would be pushed to \(destination) again")
            } else {
                try await replay.request(destination: destination, contactIDs: contacts)
                print("\(contacts.count) contact(s) will be pushed to \(destination) again (hubsignal status shows them pending until then)")
            }
            await client.shutdown()
        } catch {
            await client.shutdown()
            throw fail(error)
        }
    }
}
