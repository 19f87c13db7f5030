import EmbeddedPostgres
import FaultHarness
import Foundation
import PQ
import Testing
import TestSupport

/// Runs the real `hubsignal` executable (built next to the tests by `swift build --build-tests`).
@Suite struct ServeProcessTests {
    static var executable: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../.build/debug/hubsignal").standardizedFileURL
    }

    /// Posts JSON with curl-free Foundation networking is not available everywhere on Linux, so use a raw socket.
    static func post(port: Int, path: String, body: String, writeKey: String) throws -> Int {
        let authorization = Data((writeKey + ":").utf8).base64EncodedString()
        let request =
            "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nAuthorization: Basic \(authorization)\r\n"
            + "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
        let response = try rawHTTP(port: port, request: request)
        guard let statusLine = response.split(separator: "\r\n").first, statusLine.split(separator: " ").count >= 2,
            let status = Int(statusLine.split(separator: " ")[1])
        else { return 0 }
        return status
    }

    static func rawHTTP(port: Int, request: String) throws -> String {
        String(decoding: try RawHTTP.exchange(port: port, bytes: Array(request.utf8)), as: UTF8.self)
    }

    /// Starts `hubsignal serve` on `database` with a write key, the test migrations and quiet logs, its operations
    /// listener on `adminPort` (default: a free port); `environment` adds or overrides variables.
    static func startServe(
        _ database: TestDatabase, port: Int, adminPort: Int? = nil, environment extra: [String: String] = [:],
        standardError: Any = FileHandle.nullDevice, command: String = "serve"
    ) throws -> Process {
        let process = Process()
        process.executableURL = executable
        process.arguments = [command]
        var environment = ProcessInfo.processInfo.environment
        environment["DATABASE_URL"] = database.connectionString
        environment["HUBSIGNAL_PORT"] = String(port)
        environment["HUBSIGNAL_ADMIN_PORT"] = String(try adminPort ?? EmbeddedPostgres.findFreePort())
        environment["HUBSIGNAL_WRITE_KEYS"] = "process-key"
        environment["HUBSIGNAL_MIGRATIONS_DIR"] = TestPostgres.migrationsDirectory.path
        environment["HUBSIGNAL_LOG_LEVEL"] = "error"
        environment.merge(extra) { _, new in new }
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = standardError
        try process.run()
        return process
    }

    @Test func devSyncsContactsToItsHubSpotAndOneSignalSandboxes() async throws {
        try await TestPostgres.withDatabase { database in
            let port = try EmbeddedPostgres.findFreePort()
            let adminPort = try EmbeddedPostgres.findFreePort()
            let process = try Self.startServe(
                database, port: port, adminPort: adminPort, environment: ["HUBSIGNAL_SYNC_LINGER_MS": "0"], command: "dev")
            let deadline = ContinuousClock.now + .seconds(30)
            while (try? Self.rawHTTP(port: port, request: "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))?.contains("200") != true {
                guard ContinuousClock.now < deadline, process.isRunning else {
                    process.terminate()
                    Issue.record("hubsignal dev did not start")
                    return
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            let status = try Self.post(
                port: port, path: "/v1/identify", body: #"{"userId": "ada", "traits": {"email": "ada@example.com", "firstName": "Ada"}}"#,
                writeKey: "process-key")
            #expect(status == 200)
            var synced: String?
            while ContinuousClock.now < deadline + .seconds(30), synced == nil {
                let rows = try await database.client.query(
                    """
                    SELECT c.hubspot_contact_id FROM contacts c JOIN sync_status s USING (contact_id)
                    WHERE s.destination = 'hubspot' AND s.state = 'in_sync' AND c.user_id = 'ada'
                    """)
                synced = try rows.first?.decode(String?.self, at: 0)
                if synced == nil { try await Task.sleep(for: .milliseconds(100)) }
            }
            // And its OneSignal sandbox: the user did not exist there, so it was created with its tags.
            var tags: String?
            while ContinuousClock.now < deadline + .seconds(30), tags == nil {
                let rows = try await database.client.query(
                    """
                    SELECT s.acknowledged::text FROM sync_status s JOIN contacts c USING (contact_id)
                    WHERE s.destination = 'onesignal' AND s.state = 'in_sync' AND c.user_id = 'ada'
                    """)
                tags = try rows.first?.decode(String?.self, at: 0)
                if tags == nil { try await Task.sleep(for: .milliseconds(100)) }
            }
            // The calls are in /metrics: per destination, method and status, with durations and the projection's lag.
            let metrics = try Self.rawHTTP(port: adminPort, request: "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            for series in [
                #"hubsignal_destination_requests_total{destination="hubspot",method="POST",status="200"}"#,
                // A user OneSignal never acknowledged is created in one call (create-or-update), not an update answered 404.
                #"hubsignal_destination_requests_total{destination="onesignal",method="POST",status="201"}"#,
                "hubsignal_destination_request_duration_seconds", "hubsignal_delivery_batch_size",
                #"hubsignal_subscription_lag_events{subscription="people"}"#,
            ] {
                #expect(metrics.contains(series), "missing from /metrics: \(series)")
            }
            // The demo data set dev posts to itself went through the API too.
            let demo = try await database.client.query(
                "SELECT count(*) FROM events WHERE idempotency_key LIKE '%dev-demo-%'")[0].decode(Int64.self, at: 0)
            #expect(demo == 4)
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
            #expect(tags?.contains(#""first_name": "Ada""#) == true, "the user reached the OneSignal sandbox: \(tags ?? "nothing")")
            #expect(synced != nil, "the contact reached the HubSpot sandbox and its acknowledgement came back")
            #expect(process.terminationStatus == 0)
        }
    }

    @Test func sigtermFinishesInFlightWorkAndExitsCleanly() async throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.executable.path), "build the executable: swift build --build-tests")
        try await TestPostgres.withDatabase { database in
            let port = try EmbeddedPostgres.findFreePort()
            let process = try Self.startServe(database, port: port)

            // Wait until it serves.
            let deadline = ContinuousClock.now + .seconds(30)
            while (try? Self.rawHTTP(port: port, request: "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))?.contains("200") != true {
                guard ContinuousClock.now < deadline, process.isRunning else {
                    process.terminate()
                    Issue.record("hubsignal serve did not start")
                    return
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            let first = try Self.post(port: port, path: "/v1/track", body: #"{"userId": "u", "event": "E", "messageId": "sig-first"}"#, writeKey: "process-key")
            #expect(first == 200)
            // Requests in flight while SIGTERM arrives: every one acknowledged with 200 must be in the log.
            let acknowledged = try await withThrowingTaskGroup(of: String?.self) { group in
                for index in 0..<40 {
                    group.addTask {
                        let body = #"{"userId": "u\#(index)", "event": "E", "messageId": "sig-\#(index)"}"#
                        let status = try? Self.post(port: port, path: "/v1/track", body: body, writeKey: "process-key")
                        return status == 200 ? "sig-\(index)" : nil
                    }
                }
                try await Task.sleep(for: .milliseconds(5))
                kill(process.processIdentifier, SIGTERM)
                var keys: [String] = ["sig-first"]
                for try await key in group { if let key { keys.append(key) } }
                return keys
            }
            let exited = ContinuousClock.now + .seconds(30)
            while process.isRunning, ContinuousClock.now < exited { try await Task.sleep(for: .milliseconds(50)) }
            #expect(!process.isRunning)
            #expect(process.terminationStatus == 0)
            // A Segment key may be stored scoped by its write key (`<write key id>:<messageId>`).
            let keys = try await database.client.query("SELECT idempotency_key FROM events").map { try $0.decode(String.self, at: 0) }
            let stored = Set(keys.map { $0.split(separator: ":", maxSplits: 1).last.map(String.init) ?? $0 })
            #expect(Set(acknowledged).isSubset(of: stored))
        }
    }

    /// The public port answers 404 to `/metrics` and `/readyz`, which the admin port serves; `serve` says at start-up
    /// why HubSpot's requests are refused when the client secret comes without the public URL and the portal id.
    @Test func operationsEndpointsListenApartAndServeSaysWhyHubSpotIsRefused() async throws {
        try await TestPostgres.withDatabase { database in
            let log = FileManager.default.temporaryDirectory.appendingPathComponent("serve-\(UUID().uuidString).log")
            #expect(FileManager.default.createFile(atPath: log.path, contents: nil))
            defer { try? FileManager.default.removeItem(at: log) }
            let (port, adminPort) = (try EmbeddedPostgres.findFreePort(), try EmbeddedPostgres.findFreePort())
            let process = try Self.startServe(
                database, port: port, adminPort: adminPort,
                environment: ["HUBSPOT_CLIENT_SECRET": "hubspot-secret", "HUBSIGNAL_LOG_LEVEL": "warning"],
                standardError: try FileHandle(forWritingTo: log))
            defer { if process.isRunning { process.terminate() } }
            func get(_ path: String, on port: Int) -> String {
                (try? Self.rawHTTP(port: port, request: "GET \(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")) ?? ""
            }
            let deadline = ContinuousClock.now + .seconds(30)
            while !get("/readyz", on: adminPort).hasPrefix("HTTP/1.1 200") {
                guard ContinuousClock.now < deadline, process.isRunning else {
                    Issue.record("hubsignal serve did not become ready on its admin port")
                    return
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(get("/healthz", on: port).hasPrefix("HTTP/1.1 200"))
            #expect(try Self.post(port: port, path: "/v1/track", body: #"{"userId": "u", "event": "E"}"#, writeKey: "process-key") == 200)
            for path in ["/readyz", "/metrics"] {
                #expect(get(path, on: port).hasPrefix("HTTP/1.1 404"), "\(path) on the public port")
            }
            let metrics = get("/metrics", on: adminPort)
            #expect(metrics.hasPrefix("HTTP/1.1 200") && metrics.contains("hubsignal_"), "\(metrics.prefix(300))")
            let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            #expect(output.contains("HubSpot webhooks and workflow actions are refused"), "\(output)")
            #expect(output.contains("HUBSIGNAL_PUBLIC_URL is not set") && output.contains("HUBSPOT_PORTAL_ID is not set"), "\(output)")
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
        }
    }

    @Test func anInvalidMappingFileStopsStartUpWithWhereAndWhat() async throws {
        try await TestPostgres.withDatabase { database in
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("bad-mapping-\(UUID().uuidString).yaml")
            try "version: 1\ncontacts:\n  unknown_traits: keep\n".write(to: file, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: file) }
            let errors = Pipe()
            let process = try Self.startServe(
                database, port: try EmbeddedPostgres.findFreePort(),
                environment: ["HUBSIGNAL_MAPPING": file.path, "HUBSIGNAL_LOG_LEVEL": "info"], standardError: errors)
            let output = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus != 0)
            #expect(output.contains(file.path))
            #expect(output.contains("contacts.unknown_traits"))
        }
    }

    @Test func serveBuildsTheReadModelsFromWhatItAccepts() async throws {
        try await TestPostgres.withDatabase { database in
            let port = try EmbeddedPostgres.findFreePort()
            let process = try Self.startServe(database, port: port)
            defer { if process.isRunning { process.terminate() } }
            let deadline = ContinuousClock.now + .seconds(30)
            var status = 0
            while status != 200 && ContinuousClock.now < deadline && process.isRunning {
                status = (try? Self.post(
                    port: port, path: "/v1/identify",
                    body: #"{"userId": "u-42", "traits": {"email": "u42@example.com", "firstName": "Ada"}, "messageId": "m-42"}"#,
                    writeKey: "process-key")) ?? 0
                if status != 200 { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(status == 200)
            var email: String?
            while email == nil && ContinuousClock.now < deadline {
                email = try await database.client.query("SELECT email FROM contacts WHERE user_id = 'u-42'").first?.decode(String.self, at: 0)
                if email == nil { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(email == "u42@example.com")
        }
    }
}
