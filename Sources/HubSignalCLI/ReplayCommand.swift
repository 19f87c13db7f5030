import App
import ArgumentParser
import Delivery
import Domain
import EventStore
import Foundation
import Logging
import Migrations
import Ingestion
import Operations
import PQ
import Projections

/// `hubsignal replay`: push contacts' desired state to a destination again, in full.
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Push contacts' desired state to HubSpot or OneSignal again, in full (a contact, or the contacts seen in a time window); with --events, send HubSpot the history of matching events.",
        discussion: """
            HubSignal forgets what the destination acknowledged for those contacts (recorded in the log as \
            \(EventType.replayRequested)), so the running sync sends every desired value again; upserts make this harmless. \
            Behavioral events, timeline entries and notifications are events, not state: they are not resent by a replay. \
            `serve` must be running (with the destination configured) for the push to happen.

            `hubsignal replay hubspot --events --since T [--until T]` is the backfill: the behavioral events, custom object \
            records and timeline entries the mapping derives now from the events that occurred in the window are queued for \
            the running HubSpot sync, which sends them through its rate limiter. An event output is queued once ever (an \
            event already sent, live or by an earlier backfill, is skipped); progress is saved as it goes, so running the \
            same command again after an interruption continues where it stopped. It waits while 2,000 rows are queued \
            (--max-queued), so `serve` must be running. See docs/operations.md.
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: "hubspot, onesignal (every app) or onesignal:<app>.") var destination: String
    @Option(help: "A contact_id (repeatable).") var contact: [String] = []
    @Option(help: "A contact's Segment userId (repeatable).") var userId: [String] = []
    @Option(help: "A contact's email (repeatable).") var email: [String] = []
    @Option(help: "Contacts seen since this time (ISO 8601, e.g. 2026-11-30T00:00:00Z).") var since: String?
    @Option(help: "…and before this time (ISO 8601; default now).") var until: String?
    @Flag(help: "Only print how many contacts would be replayed.") var dryRun = false
    @Flag(help: "hubspot only: send the history of matching events that occurred in --since/--until (a backfill).") var events = false
    @Option(help: "With --events: how many outbox rows may wait before the backfill queues more.") var maxQueued = 2000

    func validate() throws {
        if events {
            guard destination == Destination.hubspot.rawValue else { throw ValidationError("--events sends history to hubspot only") }
            guard since != nil, contact.isEmpty, userId.isEmpty, email.isEmpty else {
                throw ValidationError("--events takes a time window (--since [--until]), not contacts")
            }
            guard maxQueued > 0 else { throw ValidationError("--max-queued must be positive") }
        }
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
        if events {
            do {
                try await backfill(configuration, client: client, logger: logger)
                await client.shutdown()
            } catch {
                await client.shutdown()
                throw fail(error)
            }
            return
        }
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

    /// `--events`: the backfill of HubSpot event outputs over the window, with a line per step.
    private func backfill(_ configuration: AppConfiguration, client: PQClient, logger: Logger) async throws {
        let mapping = try HubSignalService.loadMapping(configuration, logger: logger)
        let migrator = Migrator(client: client, migrations: try HubSignalService.loadMigrations(configuration), logger: logger)
        try await migrator.checkUpToDate()
        // The portal id names behavioral events: from the configuration, else the installed app's portal.
        var portalID = configuration.hubSpotPortalID
        if portalID == nil {
            portalID = try await client.query(
                "SELECT portal_id FROM hubspot_installations ORDER BY installed_at DESC LIMIT 1", name: "replay.portal")
                .first.map { try $0.decode(String.self, at: 0) }
        }
        let start = since.flatMap(ISO8601Timestamp.parse)!
        let end = until.flatMap(ISO8601Timestamp.parse) ?? Date()
        // Events of archived partitions cannot be sent: refused when the window reaches into them.
        try await ArchivedHistory.refuseWhileArchived(client: client, work: "a backfill of HubSpot events from \(since ?? "")", since: start)
        var backfill = HubSpotEventBackfill(
            store: EventStore(client: client, logger: logger), mapping: mapping, portalID: portalID, since: start, until: end)
        backfill.maximumQueued = maxQueued
        guard backfill.isEnabled else {
            throw HubSpotEventBackfillError(
                "the mapping sends no behavioral events, custom objects or timeline entries to HubSpot: nothing to backfill")
        }
        if let resumed = try await backfill.checkpoint() {
            print(
                "the backfill of \(ISO8601Timestamp.format(start)) – \(ISO8601Timestamp.format(end)) continues after position "
                    + "\(resumed.position), where its last run stopped")
        }
        if dryRun {
            let head = try await EventStore(client: client, logger: logger).headPosition()
            print("the backfill would scan the log up to position \(head)")
            return
        }
        let progress = try await backfill.run(logger: logger) { step in
            print("position \(step.position) of \(step.end): \(step.read) events read, \(step.queued) outputs queued")
        }
        let waiting = try await client.query("SELECT count(*) FROM hubspot_event_outbox", name: "replay.outbox")[0].decode(Int64.self, at: 0)
        print(
            "backfill complete: \(progress.queued) event output(s) queued for HubSpot; \(waiting) row(s) of the outbox wait for "
                + "the running sync (it sends them through its rate limiter)")
    }
}
