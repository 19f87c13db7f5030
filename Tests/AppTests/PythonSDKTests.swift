import Foundation
import Testing

/// The real Python SDKs from PyPI — Segment's `segment-analytics-python` 2.4.0 and RudderStack's `rudder-sdk-python`
/// 2.1.9 (installed by `scripts/install-python-sdks`, which `make test` runs) — pointed at a live HubSignal server with
/// only `host` changed: identify, track, page, group and alias, flushed, are each stored exactly once and the SDK
/// reports no error.
@Suite struct PythonSDKTests {
    @Test(.enabled(if: PythonSDKs.directory != nil, PythonSDKs.missingMessage), arguments: PythonSDKs.Library.allCases)
    func theRealSDKDeliversEachCallOnce(_ library: PythonSDKs.Library) async throws {
        let directory = try #require(PythonSDKs.directory)
        try await IngestionTestServer.with { server in
            let host = "http://127.0.0.1:\(try #require(server.client.port))"
            let prefix = "\(library.rawValue)-\(UUID().uuidString)-"
            let run = try await PythonSDKs.run(
                script: PythonSDKs.script, arguments: [host, IngestionTestServer.writeKey, library.rawValue, prefix], pythonPath: directory)
            #expect(run.status == 0, "python exited \(run.status): \(run.standardError)")
            #expect(run.standardOutput.contains(#"{"errors": []}"#), "the SDK reported errors: \(run.standardOutput) \(run.standardError)")

            let scope = WriteKeyIDs.of(IngestionTestServer.writeKey) + ":"
            let rows = try await server.database.client.query("SELECT idempotency_key, type, stream FROM events ORDER BY position")
            let stored = try rows.map { try $0.decode((String, String, String).self) }
            let expected = ["identify", "track", "page", "group", "alias"]
            #expect(stored.map(\.0).sorted() == expected.map { scope + prefix + $0 }.sorted(), "each call stored once")
            for (key, type, stream) in stored {
                #expect("segment." + key.dropFirst(scope.count + prefix.count) == type, "\(key)")
                #expect(stream == "user:py-user", "\(key)")
            }
        }
    }
}

/// The Python SDKs the tests run, where they are installed, and how a test runs them.
enum PythonSDKs {
    enum Library: String, CaseIterable, Sendable, CustomTestStringConvertible {
        /// `segment-analytics-python`: `from segment.analytics import Client`; gzip off by default.
        case segment
        /// `rudder-sdk-python`: `from rudderstack.analytics.client import Client`; gzip on by default.
        case rudderstack

        var testDescription: String { rawValue == "segment" ? "segment-analytics-python 2.4.0" : "rudder-sdk-python 2.1.9" }
    }

    /// The package's root: this file is `Tests/AppTests/PythonSDKTests.swift`.
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `.build/test-clients/python` with both SDKs, installed now (by the script `make test` runs) when missing;
    /// `nil` when they cannot be installed here.
    static let directory: String? = {
        let directory = packageRoot.appendingPathComponent(".build/test-clients/python")
        let stamp = directory.appendingPathComponent(".installed").path
        if !FileManager.default.fileExists(atPath: stamp) {
            let process = Process()
            process.executableURL = packageRoot.appendingPathComponent("scripts/install-python-sdks")
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            guard (try? process.run()) != nil else { return nil }
            process.waitUntilExit()
        }
        return FileManager.default.fileExists(atPath: stamp) ? directory.path : nil
    }()

    static let missingMessage: Comment =
        "the Python SDKs are not installed and scripts/install-python-sdks could not install them (it needs python3 with pip and PyPI): `make test` runs it"

    /// Sends identify, track, page, group and alias with message ids `<prefix><type>`, flushes, shuts the client down
    /// and prints `{"errors": [...]}` (what the SDK's `on_error` saw). Arguments: host, write key, library, prefix.
    static let script = """
        import json, sys
        host, write_key, library, prefix = sys.argv[1:5]
        if library == "segment":
            from segment.analytics import Client
        else:
            from rudderstack.analytics.client import Client
        errors = []
        def on_error(error, items):
            errors.append(repr(error))
        client = Client(write_key, host=host, on_error=on_error, max_retries=2)
        client.identify("py-user", {"email": "py@example.com", "name": "Py Thon"}, message_id=prefix + "identify")
        client.track("py-user", "Report Run", {"rows": 3}, message_id=prefix + "track")
        client.page("py-user", "Docs", "Home", {"url": "https://docs.example.com/"}, message_id=prefix + "page")
        client.group("py-user", "py-group", {"name": "Py Corp"}, message_id=prefix + "group")
        client.alias("py-anon", "py-user", message_id=prefix + "alias")
        client.shutdown()
        print(json.dumps({"errors": errors}))
        """

    /// Runs `python3 -c script arguments…` with `PYTHONPATH` set, waiting without blocking a thread of the
    /// cooperative pool (the server under test answers on it).
    static func run(script: String, arguments: [String], pythonPath: String) async throws
        -> (status: Int32, standardOutput: String, standardError: String)
    {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hubsignal-python-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = directory.appendingPathComponent("stdout")
        let errors = directory.appendingPathComponent("stderr")
        guard FileManager.default.createFile(atPath: output.path, contents: nil), FileManager.default.createFile(atPath: errors.path, contents: nil)
        else { throw CocoaError(.fileWriteUnknown) }
        let outputHandle = try FileHandle(forWritingTo: output)
        let errorHandle = try FileHandle(forWritingTo: errors)
        defer {
            try? outputHandle.close()
            try? errorHandle.close()
        }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script] + arguments
        // Python's own variables, not HubSignal's (EnvironmentVariablesTests registers those read by subscript).
        process.environment = ProcessInfo.processInfo.environment.merging(["PYTHONPATH": pythonPath, "PYTHONDONTWRITEBYTECODE": "1"]) { $1 }
        process.standardOutput = outputHandle
        process.standardError = errorHandle
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            process.terminationHandler = { _ in continuation.resume() }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        return (
            process.terminationStatus, (try? String(contentsOf: output, encoding: .utf8)) ?? "",
            (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
        )
    }
}
