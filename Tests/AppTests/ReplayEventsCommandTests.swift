import Foundation
import TestSupport
import Testing

/// `hubsignal replay hubspot --events`: the backfill of HubSpot event outputs from the command line (issue 22 item 11;
/// the backfill itself: DeliveryTests.BackfillTests).
@Suite struct ReplayEventsCommandTests {
    @Test func theBackfillRunsFromTheCommandLineAndRefusesWhatItCannotDo() async throws {
        try await TestPostgres.withDatabase(migrated: false) { database in
            #expect(try CommandLineTests.hubsignal(["migrate"], database: database).status == 0)
            let window = ["--since", "2026-11-01T00:00:00Z", "--until", "2026-12-01T00:00:00Z"]

            let oneSignal = try CommandLineTests.hubsignal(["replay", "onesignal", "--events"] + window, database: database)
            #expect(oneSignal.status != 0)
            #expect(oneSignal.errors.contains("hubspot only"))
            let noWindow = try CommandLineTests.hubsignal(["replay", "hubspot", "--events", "--user-id", "u1"], database: database)
            #expect(noWindow.status != 0)
            // A mapping that sends no event outputs to HubSpot (timeline entries off) has nothing to backfill.
            let quiet = FileManager.default.temporaryDirectory.appendingPathComponent("backfill-\(UUID()).yaml")
            try "hubspot_timeline:\n  mode: \"off\"\n".write(to: quiet, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: quiet) }
            let nothing = try CommandLineTests.hubsignal(
                ["replay", "hubspot", "--events"] + window, database: database, environment: ["HUBSIGNAL_MAPPING": quiet.path])
            #expect(nothing.status != 0)
            #expect(nothing.errors.contains("nothing to backfill"))

            let mapping = FileManager.default.temporaryDirectory.appendingPathComponent("backfill-\(UUID()).yaml")
            try "behavioral_events:\n  enabled: true\n".write(to: mapping, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: mapping) }
            let environment = ["HUBSIGNAL_MAPPING": mapping.path, "HUBSPOT_PORTAL_ID": "12345678"]
            let run = try CommandLineTests.hubsignal(["replay", "hubspot", "--events"] + window, database: database, environment: environment)
            #expect(run.status == 0, "\(run.output)\(run.errors)")
            #expect(run.output.contains("backfill complete: 0 event output(s) queued"))
            let status = try CommandLineTests.hubsignal(["status"], database: database)
            #expect(status.output.contains("hubspot events: 0 waiting in the outbox"), "\(status.output)\(status.errors)")
        }
    }
}
