import App
import ArgumentParser
import Foundation
import Operations

/// `hubsignal retention`: deletes the finished rows of the operational tables past their retention now.
struct RetentionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retention",
        abstract: "Delete rejections and the ledger rows of sent messages older than their retention (the service does it hourly).",
        discussion: """
            The retentions come from HUBSIGNAL_RETENTION_REJECTIONS and HUBSIGNAL_RETENTION_DELIVERED (durations such as \
            30d or 12h; off or 0 keeps a table forever), or from --rejections / --delivered. Rows are deleted \
            \(Retention.Configuration().batchSize) per transaction. Never deleted: events (see hubsignal archive), pending \
            work, dead letters, the ledger rows of contacts, companies and users, hubspot_event_queued. See \
            docs/operations.md, "Retention".
            """)

    @OptionGroup var options: GlobalOptions
    @Flag(help: "Count the rows that would be deleted; delete nothing.") var dryRun = false
    @Option(help: "Retention of rejections (e.g. 90d, or off), instead of HUBSIGNAL_RETENTION_REJECTIONS.") var rejections: String?
    @Option(help: "Retention of sent messages' ledger rows (e.g. 30d, or off), instead of HUBSIGNAL_RETENTION_DELIVERED.") var delivered: String?

    func validate() throws {
        for value in [rejections, delivered].compactMap({ $0 }) {
            do { _ = try Retention.parse(value) } catch { throw ValidationError("\(error)") }
        }
    }

    func run() async throws {
        let (configuration, logger) = try prepare(options, requireDatabase: true)
        var retention = configuration.retention
        if let rejections { retention.rejections = try Retention.parse(rejections) }
        if let delivered { retention.delivered = try Retention.parse(delivered) }
        let client = HubSignalService.makeClient(configuration, logger: logger)
        do {
            let report = try await Retention(client: client, configuration: retention).run(dryRun: dryRun)
            await client.shutdown()
            for table in Retention.Table.allCases {
                guard let rows = report.rows[table], let kept = report.retention[table] else {
                    print("\(table): kept forever")
                    continue
                }
                print("\(table): \(rows) row(s) older than \(Retention.format(kept)) \(dryRun ? "would be deleted" : "deleted")")
            }
        } catch {
            await client.shutdown()
            throw fail(error)
        }
    }
}
