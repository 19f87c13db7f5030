import App
import ArgumentParser
import Delivery
import Domain
import EventStore
import Foundation
import Operations

/// `hubsignal erase`: removes a person's personal data (GDPR erasure).
struct EraseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "erase",
        abstract: "Erase a person's personal data: their events in the log (redacted in place), read-model rows, rejections, queued work.",
        discussion: """
            The log's events about the person keep their positions, types, times and idempotency keys (a retry of an \
            erased message stores nothing), with payload and metadata replaced by {"erased": "<erasure id>"}; the erasure \
            is recorded as a \(EventType.erasure) event (ids and counts only), waits for transactions and sync work in \
            flight and erases what they appended, and the running projection deletes the person's read-model rows. With \
            --forward, the person is also deleted at HubSpot (GDPR delete by HubSpot id and by email) and at every \
            configured OneSignal app (delete user by external id); a destination where HubSignal knew no id of the person \
            is reported as not deleted. The database role needs the grants of docs/security.md, "Privileges" (EXECUTE on \
            hubsignal_erase_events, DELETE on the tables erasure cleans).
            """)

    @OptionGroup var options: GlobalOptions
    @Option(help: "The person's email.") var email: String?
    @Option(help: "The person's Segment userId.") var userId: String?
    @Option(help: "The person's contact_id.") var contact: String?
    @Option(help: "The person's HubSpot contact id (a privacy deletion listed by hubsignal status).") var hubspotId: String?
    @Flag(help: "Also delete the person at HubSpot and OneSignal (with the configured credentials).") var forward = false

    func validate() throws {
        guard [email, userId, contact, hubspotId].compactMap({ $0 }).count == 1 else {
            throw ValidationError("name the person with exactly one of --email, --user-id, --contact or --hubspot-id")
        }
    }

    func run() async throws {
        let (configuration, logger) = try prepare(options, requireDatabase: true)
        let client = HubSignalService.makeClient(configuration, logger: logger)
        do {
            let person: Erasure.Person =
                if let email { .email(email) } else if let userId { .userID(userId) } else if let hubspotId { .hubSpotID(hubspotId) }
                else { .contactID(contact!) }
            let mapping = try HubSignalService.loadMapping(configuration, logger: logger)
            let oneSignal = forward
                ? configuration.oneSignalApps.map {
                    (app: $0.name, client: HubSignalService.makeOneSignalClient($0, configuration, logger: logger),
                     byEmail: mapping.oneSignal.matchBy == .email)
                } : []
            let hubSpot = forward ? HubSignalService.makeHubSpotClient(configuration, logger: logger) : nil
            let report = try await Erasure(client: client, store: EventStore(client: client, logger: logger))
                .erase(person, hubSpot: hubSpot, oneSignal: oneSignal)
            print(
                "erasure \(report.erasureID): \(report.contactIDs.count) contact(s), \(report.events) event(s) redacted, "
                    + "\(report.otherRows) other row(s) deleted"
                    + (report.forwarded.isEmpty ? "" : "; deleted at \(report.forwarded.joined(separator: ", "))")
                    + (report.notForwarded.isEmpty
                        ? "" : "; NOT deleted at \(report.notForwarded.joined(separator: ", ")) (HubSignal knew no id of the person there)"))
            await client.shutdown()
        } catch {
            await client.shutdown()
            throw fail(error)
        }
    }
}
