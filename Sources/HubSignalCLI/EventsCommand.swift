import App
import ArgumentParser
import Delivery
import EventStore
import Foundation
import Ingestion
import Operations
import Projections

struct Events: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the audit trail of one contact: every event of the log that concerns it, oldest first.",
        discussion: """
            Name the contact by exactly one of --contact, --user-id, --email or --hubspot-id; a merged contact resolves \
            to the contact it was merged into, and the events of every contact merged into it are shown too. Listed: the \
            Segment, HubSpot and OneSignal events that name one of its identities, and HubSignal's result events about it \
            (what HubSpot and OneSignal answered). One line per event: position, recorded time, source, type and a \
            summary; --json prints one JSON object per line instead. Without --follow the latest --limit events are \
            shown. Reads the database only (DATABASE_URL).
            """)

    @OptionGroup var options: GlobalOptions
    @Option(help: "The contact's contact_id.") var contact: String?
    @Option(help: "A Segment userId of the contact.") var userId: String?
    @Option(help: "An email of the contact (case-insensitive).") var email: String?
    @Option(help: "The contact's HubSpot contact id.") var hubspotId: String?
    @Option(help: "Show at most this many events: the latest ones.") var limit = 100
    @Option(
        help: "Before migration 0022 (no mentions index): also scan this many of the log's most recent positions for events on other streams than the contact's own (0: none).")
    var scanWindow: Int64 = 100_000
    @Flag(help: "Print one JSON object per line (position, recorded_at, source, type, stream, payload).") var json = false
    @Flag(help: "Keep polling for new events every second until Ctrl-C.") var follow = false

    func validate() throws {
        let given = [contact, userId, email, hubspotId].compactMap { $0 }
        guard given.count == 1 else {
            throw ValidationError("name the contact by exactly one of --contact, --user-id, --email, --hubspot-id")
        }
        guard limit > 0 else { throw ValidationError("--limit must be positive") }
        guard scanWindow >= 0 else { throw ValidationError("--scan-window must be 0 or more") }
    }

    var reference: ContactAuditTrail.Reference {
        if let contact { return .contactID(contact) }
        if let userId { return .userID(userId) }
        if let email { return .email(email) }
        return .hubSpotID(hubspotId ?? "")
    }

    func run() async throws {
        let (configuration, logger) = try prepare(options, requireDatabase: true)
        let client = HubSignalService.makeClient(configuration, logger: logger)
        let trail = ContactAuditTrail(store: EventStore(client: client, logger: logger), recentWindow: scanWindow)
        do {
            guard let found = try await trail.resolve(reference) else {
                throw ContactAuditTrailError(message: "no contact with the \(reference) in the read models (see `hubsignal status`: is the projection behind?)")
            }
            if !json {
                describe(found)
                describe(try await DroppedValues.of(contactID: found.contactID, client: client))
                if let archived = try await ArchivedHistory.archivedBefore(client: client) {
                    note("(history before position \(archived.position) is archived, its events are not shown: hubsignal archive --list)")
                }
            }
            let page = try await trail.latest(contactID: found.contactID, limit: limit)
            if page.hasEarlier && !json {
                note("(earlier events not shown: raise --limit)")
            }
            for event in page.events { try show(event) }
            guard follow else {
                await client.shutdown()
                return
            }
            // Until Ctrl-C ends the process. The contact is resolved again on each poll, so later merges count.
            var cursor = page.cursor
            while true {
                try await Task.sleep(for: .seconds(1))
                var next = try await trail.events(contactID: found.contactID, limit: 1_000, after: cursor)
                for event in next.events { try show(event) }
                while next.events.count == 1_000 {
                    next = try await trail.events(contactID: found.contactID, limit: 1_000, after: next.cursor)
                    for event in next.events { try show(event) }
                }
                cursor = next.cursor
            }
        } catch {
            await client.shutdown()
            throw fail(error)
        }
    }

    /// The contact, its merged contacts and identities, on standard error (standard output holds only events).
    private func describe(_ contact: ContactAuditTrail.Contact) {
        var lines = ["contact \(contact.contactID)"]
        if !contact.mergedContactIDs.isEmpty { lines[0] += " (merged into it: \(contact.mergedContactIDs.joined(separator: ", ")))" }
        for kind in contact.identities.keys.sorted() {
            lines.append("  \(kind): \(contact.identities[kind, default: []].joined(separator: ", "))")
        }
        note(lines.joined(separator: "\n"))
    }

    /// What each destination leaves out for the contact (`sync_status.dropped`), on standard error.
    private func describe(_ dropped: [DroppedValues.Entry]) {
        guard !dropped.isEmpty else { return }
        note((["left out (sync_status.dropped):"] + dropped.map { "  \($0.destination) \($0.key): \($0.reason)" }).joined(separator: "\n"))
    }

    private func note(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    private func show(_ event: ContactAuditTrail.Event) throws {
        let line: String
        if json {
            line = String(decoding: try event.json.serialized(), as: UTF8.self)
        } else {
            line = [
                String(event.position).leftPadded(to: 8), ISO8601Timestamp.format(event.recordedAt),
                event.source.rawValue.padded(to: 9), event.type.rawValue.padded(to: 40), event.summary,
            ].joined(separator: "  ")
        }
        // Written unbuffered, so `--follow` output shows up at once in a pipe too.
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}

extension String {
    fileprivate func padded(to width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }

    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
