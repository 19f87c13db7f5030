import App
import ArgumentParser
import Foundation
import Migrations
import Operations

/// `hubsignal archive`: detaches old partitions of the log (kept in the database or exported), lists and restores them.
struct ArchiveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "archive",
        abstract: "Archive old partitions of the log (--before), list them (--list), or attach them again (--restore).",
        discussion: """
            --before detaches the partitions wholly before a position (or whose last event was recorded before an ISO \
            8601 date) that every subscriber has read, never the one being written, and keeps them as tables in the \
            schema \(Archive.schema); with --to DIR it exports each to DIR/<partition>.tsv (COPY text format, SHA-256 \
            recorded) and drops the table. The catalog is the table event_archive. The idempotency keys stay: a retried \
            old message is still a duplicate. While partitions are archived, a rebuild of the read models and a HubSpot \
            backfill refuse to run: restore them first. Run it as the owner of the log (the role that runs migrate). See \
            docs/operations.md, "Archiving the log".
            """)

    @OptionGroup var options: GlobalOptions
    @Option(help: "Archive the partitions wholly before this position, or recorded before this ISO 8601 date.") var before: String?
    @Option(help: "With --before: export the archived partitions to files in this directory and drop their tables.") var to: String?
    @Flag(help: "With --before: show what would be archived, and which subscribers hold a partition; change nothing.")
    var dryRun = false
    @Flag(help: "List the archived partitions.") var list = false
    @Option(
        parsing: .unconditional,
        help: "Attach an archived partition again (importing its file when it was exported): its name, or --all for every one.")
    var restore: String?

    /// `--restore --all`.
    var restoreAll: Bool { restore == "--all" }

    func validate() throws {
        let actions = [before != nil, list, restore != nil].filter { $0 }.count
        guard actions == 1 else {
            throw ValidationError("give exactly one of --before, --list, or --restore <partition | --all>")
        }
        if to != nil || dryRun, before == nil { throw ValidationError("--to and --dry-run go with --before") }
        if let before { do { _ = try Archive.Cutoff(parsing: before) } catch { throw ValidationError("--before: \(error)") } }
    }

    func run() async throws {
        let (configuration, logger) = try prepare(options, requireDatabase: true)
        let client = HubSignalService.makeClient(configuration, logger: logger)
        do {
            // Archiving needs the partitioned log and its catalog: every migration applied, online ones included.
            let status = try await Migrator(
                client: client, migrations: try HubSignalService.loadMigrations(configuration), logger: logger
            ).status()
            if !status.pending.isEmpty {
                throw ValidationError(
                    "the database lacks \(status.pending.map(\.fileName).joined(separator: ", ")): run `hubsignal migrate` first")
            }
            let archive = Archive(client: client, logger: logger)
            if let before, dryRun {
                let plan = try await archive.plan(before: try Archive.Cutoff(parsing: before))
                print(plan.isEmpty ? "nothing to archive before \(before)" : plan.map { partition, unread in
                    let range = "\(partition.name): positions \(partition.fromPosition)-\(partition.toPosition - 1)"
                    return unread.isEmpty
                        ? "would archive \(range)"
                        : "would stop at \(range): not read yet by \(unread.joined(separator: ", "))"
                }.joined(separator: "\n"))
            } else if let before {
                let entries = try await archive.archive(
                    before: try Archive.Cutoff(parsing: before), exportTo: to.map { URL(fileURLWithPath: $0).standardizedFileURL.path })
                print(entries.isEmpty ? "nothing to archive before \(before)" : entries.map(Self.line).joined(separator: "\n"))
            } else if restoreAll {
                let entries = try await archive.restoreAll()
                print(entries.isEmpty ? "no archived partition" : entries.map { "restored " + Self.line($0) }.joined(separator: "\n"))
            } else if let restore {
                print("restored " + Self.line(try await archive.restore(restore)))
            } else {
                let entries = try await archive.list()
                print(entries.isEmpty ? "no archived partition" : entries.map(Self.line).joined(separator: "\n"))
            }
            await client.shutdown()
        } catch {
            await client.shutdown()
            throw fail(error)
        }
    }

    static func line(_ entry: Archive.Entry) -> String {
        let place: String = switch entry.location {
        case .database: "in \(Archive.schema).\(entry.partition)"
        case .file(let path, let sha256): "in \(path) (SHA-256 \(sha256))"
        }
        return "\(entry.partition): positions \(entry.fromPosition)-\(entry.toPosition - 1), \(entry.rowCount) events, archived "
            + "\(entry.archivedAt.formatted(.iso8601)) \(place)"
    }
}
