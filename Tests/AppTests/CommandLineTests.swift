import EmbeddedPostgres
import Foundation
import PQ
import Testing
import TestSupport

/// The real `hubsignal` executable's commands, each run as a user would run it.
@Suite struct CommandLineTests {
    struct Run {
        var status: Int32
        var output: String
        var errors: String
    }

    /// Runs `hubsignal arguments…` to completion with `DATABASE_URL` and the test migrations.
    static func hubsignal(_ arguments: [String], database: TestDatabase?, environment extra: [String: String] = [:]) throws -> Run {
        let process = Process()
        process.executableURL = ServeProcessTests.executable
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["DATABASE_URL"] = database?.connectionString
        environment["HUBSIGNAL_MIGRATIONS_DIR"] = TestPostgres.migrationsDirectory.path
        environment["HUBSIGNAL_LOG_LEVEL"] = "error"
        environment.merge(extra) { $1 }
        process.environment = environment
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, output: String(decoding: out, as: UTF8.self), errors: String(decoding: err, as: UTF8.self))
    }

    @Test("migrate, rebuild, status, retry, replay, events, erase and config check work on a database from the command line")
    func databaseCommands() async throws {
        try await TestPostgres.withDatabase(migrated: false) { database in
            let migrate = try Self.hubsignal(["migrate"], database: database)
            #expect(migrate.status == 0, "\(migrate.errors)")
            #expect(try Self.hubsignal(["migrate"], database: database).status == 0, "migrating twice is harmless")

            let rebuild = try Self.hubsignal(["rebuild"], database: database)
            #expect(rebuild.status == 0, "\(rebuild.output)\(rebuild.errors)")

            let status = try Self.hubsignal(["status", "--json"], database: database)
            #expect(status.status == 0, "\(status.errors)")
            let json = try JSONSerialization.jsonObject(with: Data(status.output.utf8)) as? [String: Any]
            #expect(json != nil, "status --json prints JSON: \(status.output)")

            #expect(try Self.hubsignal(["retry", "hubspot"], database: database).status == 0)
            let badRetry = try Self.hubsignal(["retry", "mailchimp"], database: database)
            #expect(badRetry.status != 0)
            #expect(badRetry.errors.contains("hubspot, onesignal or onesignal:<app>"))

            let replay = try Self.hubsignal(["replay", "hubspot", "--user-id", "nobody", "--dry-run"], database: database)
            #expect(replay.status == 0, "\(replay.errors)")
            #expect(replay.output.contains("0 contact(s)"))
            #expect(try Self.hubsignal(["replay", "hubspot"], database: database).status != 0, "a replay names contacts or a window")

            let events = try Self.hubsignal(["events", "--email", "nobody@example.com"], database: database)
            #expect(events.status != 0)
            let erase = try Self.hubsignal(["erase", "--user-id", "nobody"], database: database)
            #expect(erase.status != 0)
            #expect(erase.errors.contains("knows no contact"))

            let check = try Self.hubsignal(["config", "check"], database: database)
            #expect(check.status == 0, "\(check.output)\(check.errors)")
            #expect(check.output.contains("ok       database"))
            let broken = try Self.hubsignal(["config", "check"], database: database, environment: ["HUBSPOT_ACCESS_TOKEN": "x", "HUBSPOT_BASE_URL": "http://127.0.0.1:1"])
            #expect(broken.status != 0)
            #expect(broken.output.contains("PROBLEM  hubspot"))
            #expect(!broken.output.contains("\"x\""))
        }
    }

    @Test("sandbox onesignal serves one app and key, with OneSignal's own API")
    func sandboxCommand() async throws {
        let port = try EmbeddedPostgres.findFreePort()
        let app = "8250eaf6-1a58-489e-b136-7c74a864b434"
        let process = Process()
        process.executableURL = ServeProcessTests.executable
        process.arguments = ["sandbox", "onesignal", "--port", String(port), "--app-id", app, "--api-key", "os_v2_app_cli"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer {
            process.terminate()
            process.waitUntilExit()
        }
        func get(_ key: String) throws -> String {
            try ServeProcessTests.rawHTTP(
                port: port,
                request: "GET /apps/\(app)/users/by/external_id/ada HTTP/1.1\r\nHost: x\r\nAuthorization: Key \(key)\r\nConnection: close\r\n\r\n")
        }
        let deadline = ContinuousClock.now + .seconds(20)
        var answer = ""
        while ContinuousClock.now < deadline {
            if let text = try? get("os_v2_app_cli") {
                answer = text
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(answer.hasPrefix("HTTP/1.1 404"), "an unknown user: \(answer.prefix(80))")
        #expect(try get("wrong").hasPrefix("HTTP/1.1 403"))
    }
}
