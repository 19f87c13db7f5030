import App
import ArgumentParser
import Delivery
import Domain
import EventStore
import Foundation
import Ingestion
import Migrations
import Operations
import Projections

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show each projection's position, lag and version, and each destination's pending, in-flight and failed deliveries.",
        discussion: """
            Per projection: the version it was built with, its checkpoint and how many events are not projected yet. Per \
            destination: contacts by sync state (waiting, pending, in_sync, failed), pushes in flight, retrying and dead, \
            the last error, the values left out most often (sync_status.dropped: `hubsignal events` shows a contact's), \
            and each worker's rate-limit budget. Reads the database only (DATABASE_URL).
            """)

    @OptionGroup var options: GlobalOptions
    @Flag(help: "Print JSON instead of text.") var json = false

    func run() async throws {
        let (configuration, logger) = try prepare(options, requireDatabase: true)
        let client = HubSignalService.makeClient(configuration, logger: logger)
        do {
            let projection = try await ProjectionRebuild.status(client: client)
            let lag = try await EventStore(client: client, logger: logger).unreadCount(after: projection.checkpoint)
            let delivery = try await DeliveryStatus.read(client: client)
            let dropped = try await DroppedValues.mostCommon(client: client)
            // The HubSpot event outbox and the backfills of its history (`hubsignal replay hubspot --events`).
            let hubSpotEvents = try await HubSpotEventBackfill.status(client: client)
            // History detached by `hubsignal archive`.
            let archived = try await ArchivedHistory.archivedBefore(client: client)
            await client.shutdown()
            if json {
                var destinations: [JSONValue] = []
                for destination in delivery.destinations {
                    destinations.append(
                        .object([
                            "name": .string(destination.name),
                            "contacts": .object(destination.contacts.mapValues { .int(Int64($0)) }),
                            "in_flight": .int(Int64(destination.inFlight)), "retrying": .int(Int64(destination.retrying)),
                            "dead": .int(Int64(destination.dead)),
                            "last_error": destination.lastError.map(JSONValue.string) ?? .null,
                            "last_error_at": destination.lastErrorAt.map { .string(ISO8601Timestamp.format($0)) } ?? .null,
                            "workers": .object(destination.workers.mapValues(JSONValue.object)),
                            "dropped": .array(
                                dropped.filter { $0.destination == destination.name }.map {
                                    .object(["key": .string($0.key), "contacts": .int(Int64($0.contacts))])
                                }),
                        ]))
                }
                let object = JSONValue.object([
                    "projections": .array([
                        .object([
                            "name": .string(projection.name), "version": projection.version.map(JSONValue.string) ?? .null,
                            "position": .int(projection.checkpoint?.position ?? 0), "lag": .int(lag),
                        ])
                    ]),
                    "destinations": .array(destinations),
                    "archived_before_position": archived.map { .int($0.position) } ?? .null,
                    "hubspot_events": .object([
                        "waiting": .int(Int64(hubSpotEvents.waiting)),
                        "backfills": .array(hubSpotEvents.backfills.map {
                            .object(["name": .string($0.name), "position": .int($0.position), "unread": .int($0.unread)])
                        }),
                    ]),
                ])
                print(String(decoding: try object.serialized(), as: UTF8.self))
                return
            }
            print("projections")
            print(
                "  \(projection.name): position \(projection.checkpoint?.position ?? 0), lag \(lag) events, version \(projection.version ?? "(not built yet)")")
            if let archived {
                print("log: history before position \(archived.position) is archived (\(archived.partitions) partition(s): hubsignal archive --list)")
            }
            print("destinations")
            for destination in delivery.destinations {
                let states = ["waiting", "pending", "in_sync", "failed"].map { "\($0) \(destination.contacts[$0] ?? 0)" }
                print("  \(destination.name): contacts \(states.joined(separator: ", "))")
                print("    pushes: in flight \(destination.inFlight), retrying \(destination.retrying), dead \(destination.dead)")
                if let error = destination.lastError {
                    print("    last error: \(error)" + (destination.lastErrorAt.map { " (at \(ISO8601Timestamp.format($0)))" } ?? ""))
                }
                let left = dropped.filter { $0.destination == destination.name }
                if !left.isEmpty {
                    print("    left out most often: " + left.map { "\($0.key) (\($0.contacts) contacts)" }.joined(separator: ", "))
                }
                for (worker, budget) in destination.workers.sorted(by: { $0.key < $1.key }) {
                    let figures = budget.keys.sorted().map { "\($0) \(budget[$0].map(Self.text) ?? "")" }
                    print("    worker \(worker): rate limit \(figures.joined(separator: ", "))")
                }
            }
            print("hubspot events: \(hubSpotEvents.waiting) waiting in the outbox")
            for backfill in hubSpotEvents.backfills {
                let state = backfill.unread == 0 ? "read to the end" : "\(backfill.unread) events of the log after it"
                print("  \(backfill.name): position \(backfill.position), \(state)")
            }
        } catch {
            await client.shutdown()
            throw fail(error)
        }
    }

    private static func text(_ value: JSONValue) -> String {
        switch value {
        case .string(let text): return text
        case .int(let number): return String(number)
        default: return String(decoding: (try? value.serialized()) ?? [], as: UTF8.self)
        }
    }
}

struct Retry: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send dead letters (and backed-off retries) again now, after fixing the mapping or the destination.",
        discussion: """
            Dead letters are deliveries a destination refused for good (e.g. an invalid email) or that failed too many \
            times. `retry` makes them due at once; a running `serve` picks them up within a second. Narrow it with \
            --contact or --error; the destination is required.
            """)

    @OptionGroup var options: GlobalOptions
    @Argument(help: "The destination: hubspot, onesignal (every app), or onesignal:<app> (one OneSignal app).") var destination: String
    @Option(help: "Only this contact (its contact_id).") var contact: String?
    @Option(help: "Only dead letters whose last error contains this text (e.g. INVALID_EMAIL).") var error: String?

    func validate() throws {
        let oneSignalApp = "\(Destination.onesignal):"
        guard Destination(rawValue: destination) != nil || (destination.hasPrefix(oneSignalApp) && destination.count > oneSignalApp.count) else {
            throw ValidationError("the destination must be hubspot, onesignal or onesignal:<app>, not '\(destination)'")
        }
    }

    func run() async throws {
        let (configuration, logger) = try prepare(options, requireDatabase: true)
        let client = HubSignalService.makeClient(configuration, logger: logger)
        do {
            let count = try await DeliveryLedger(client: client).retry(destination: destination, contactID: contact, errorContaining: error)
            await client.shutdown()
            print("\(count) \(destination) deliver\(count == 1 ? "y" : "ies") due again")
        } catch {
            await client.shutdown()
            throw fail(error)
        }
    }
}
