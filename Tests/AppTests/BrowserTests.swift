import App
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Ingestion
import Logging
import NIOCore
import PQ
import Synchronization
import Testing
import TestSupport

/// A real browser against HubSignal: headless Chromium loads a page from another origin (another port), whose script
/// loads its settings and sends track, identify and page calls the way analytics-next sends them, and reports what it
/// saw; the test checks the page read every answer (no CORS error) and the log holds each event exactly once.
///
/// analytics-next (`packages/browser/src/plugins/segmentio/fetch-dispatcher.ts`, `batched-dispatcher.ts`,
/// `shared-dispatcher.ts`, `normalize.ts`; @segment/analytics-next 1.84) posts each call to `{apiHost}/{first letter of
/// its type}` (or batches to `{apiHost}/b`) with `fetch(url, {method: 'post', keepalive, headers: {'Content-Type':
/// 'text/plain', Authorization: 'Basic …', 'X-Retry-Count': '0'}, body: JSON.stringify(message)})`, the write key also
/// in the body's `writeKey`: the two extra headers make the browser preflight. Versions before them sent `text/plain`
/// alone, a simple request; the page sends one call that way, one with `navigator.sendBeacon` (a `text/plain` blob,
/// whose answer no page reads), a beacon batch as RudderStack's JavaScript SDK sends it (`/beacon/v1/batch?writeKey=`),
/// and one call with a server key (no origins configured), which the page must not be able to use.
@Suite struct BrowserTests {
    @Test(
        .enabled(if: Chromium.executable != nil, Chromium.missingMessage),
        .timeLimit(.minutes(3)))
    func aPageOnAnotherOriginDeliversTrackIdentifyAndPageLikeAnalyticsNext() async throws {
        let chromium = try #require(Chromium.executable)
        let page = BrowserTestPage()
        try await TestPostgres.withDatabase { database in
            // The page's origin first: HubSignal is configured with it.
            try await page.application.test(.live) { pageServer in
                let pageOrigin = "http://127.0.0.1:\(try #require(pageServer.port))"
                var configuration = AppConfiguration(databaseURL: database.connectionString)
                configuration.writeKeys = [Self.browserKey, Self.serverKey]
                configuration.corsOrigins = [Self.browserKey: [pageOrigin]]
                configuration.port = 0
                let hubSignal = HubSignalService.makeApplication(
                    configuration: configuration, client: database.client, logger: TestPostgres.logger)
                try await hubSignal.test(.live) { api in
                    let run = UUID().uuidString.lowercased()
                    page.html = Self.html(host: "http://127.0.0.1:\(try #require(api.port))", run: run)
                    try await chromium.load(pageOrigin + "/page", reportingTo: page) { report in
                        try await Self.check(report, run: run, database: database)
                    }
                }
            }
        }
    }

    /// What the page must have seen, and the log must hold.
    static func check(_ report: BrowserPageReport, run: String, database: TestDatabase) async throws {
        // The settings analytics.js loads first, read across origins.
        #expect(report.settingsAPIKey == browserKey, "the page could not read its settings: \(report)")
        // Each fetch succeeded: status 200 and `{"success": true}` read, so no CORS error (all but one preflighted).
        for call in ["track", "identify", "page", "simpleTrack", "batch"] {
            let outcome = try #require(report.calls[call], "the page reported no \(call) call: \(report)")
            #expect(outcome.status == 200 && outcome.success == true && outcome.error == nil, "\(call): \(outcome)")
        }
        #expect(report.beaconQueued == true && report.rudderBeaconQueued == true, "sendBeacon did not queue a call: \(report)")
        // The server key is refused to a page: the browser hides the answer (a network error for the script).
        let refused = try #require(report.calls["serverKey"], "the page reported no server-key call: \(report)")
        #expect(refused.error != nil && refused.status == nil, "a server key was usable from a page: \(refused)")

        // Each event stored exactly once, the beacon's too (it arrives on its own time); nothing with the server key.
        let messageIDs = ["track", "identify", "page", "simple-track", "batch-1", "batch-2", "beacon", "rudder-beacon"].map { "\(run)-\($0)" }
        try await waitUntil("the beacons' events are stored", timeout: .seconds(30)) {
            let counts = try await storedCounts(database, messageIDs: messageIDs)
            return counts["\(run)-beacon"] == 1 && counts["\(run)-rudder-beacon"] == 1
        }
        let counts = try await storedCounts(database, messageIDs: messageIDs)
        #expect(counts == Dictionary(uniqueKeysWithValues: messageIDs.map { ($0, 1) }), "\(counts)")
        let types = try await database.client.query(
            "SELECT type, metadata->>'writeKeyID' FROM events WHERE source = 'segment' ORDER BY position"
        ).map { try $0.decode((String, String).self) }
        #expect(
            types.map(\.0).sorted()
                == ["segment.identify", "segment.page"] + Array(repeating: "segment.track", count: 6),
            "\(types)")
        #expect(types.allSatisfy { $0.1 == WriteKeys.id(of: browserKey) }, "an event was stored with another key: \(types)")
    }

    static let browserKey = "browser-write-key"
    static let serverKey = "server-write-key"

    /// How many events with each of `messageIDs` (sent with the browser key) the log holds.
    static func storedCounts(_ database: TestDatabase, messageIDs: [String]) async throws -> [String: Int] {
        let scope = WriteKeys.id(of: browserKey) + ":"
        let rows = try await database.client.query(
            """
            SELECT idempotency_key, count(*) FROM events
            WHERE source = 'segment' AND idempotency_key = ANY(\(messageIDs.map { scope + $0 })::text[]) GROUP BY 1
            """)
        var counts: [String: Int] = [:]
        for row in rows {
            let (key, count) = try row.decode((String, Int).self)
            counts[String(key.dropFirst(scope.count))] = count
        }
        return counts
    }

    /// The page: a script that loads its settings and sends like analytics-next (`host` is both its `cdnURL` and,
    /// with `/v1`, its `apiHost`), and posts what it saw to `/result` on its own origin.
    static func html(host: String, run: String) -> String {
        #"""
        <!doctype html>
        <html><head><meta charset="utf-8"><title>HubSignal browser test</title></head>
        <body>
        <script>
        const cdnURL = "\#(host)";
        const apiHost = "\#(host)/v1";
        const run = "\#(run)";
        const writeKey = "\#(browserKey)";

        // A message as analytics-next's normalize() leaves it: the call's own fields, context, ids, sentAt, writeKey.
        function message(type, name, fields, key) {
          return Object.assign({
            type: type,
            messageId: run + "-" + name,
            anonymousId: "anon-" + run,
            timestamp: new Date().toISOString(),
            context: {
              library: { name: "analytics.js", version: "npm:next-1.81.0" },
              userAgent: navigator.userAgent,
              locale: navigator.language,
              page: { path: location.pathname, url: location.href, title: document.title, referrer: document.referrer, search: "" }
            },
            integrations: {},
            sentAt: new Date().toISOString(),
            writeKey: key || writeKey
          }, fields);
        }

        // A POST as analytics-next's dispatchers make it (keepalive, the JSON as the body); the outcome the script sees.
        // Since 1.7x they add `Authorization: Basic base64(writeKey:)` and `X-Retry-Count`, which makes the browser
        // preflight; `simple` sends as the versions before did: text/plain alone, no preflight.
        async function send(path, body, simple) {
          const headers = { "Content-Type": "text/plain" };
          if (!simple) {
            headers["Authorization"] = "Basic " + btoa(body.writeKey + ":");
            headers["X-Retry-Count"] = "0";
          }
          try {
            const response = await fetch(apiHost + "/" + path, {
              method: "post", keepalive: true, headers: headers, body: JSON.stringify(body)
            });
            const answer = await response.json();
            return { status: response.status, success: answer.success === true };
          } catch (error) {
            return { error: String(error) };
          }
        }

        (async () => {
          const report = { calls: {} };
          try {
            // analytics.js loads {cdnURL}/v1/projects/{writeKey}/settings before sending anything.
            const settings = await (await fetch(cdnURL + "/v1/projects/" + writeKey + "/settings")).json();
            report.settingsAPIKey = settings.integrations["Segment.io"].apiKey;
          } catch (error) {
            report.settingsError = String(error);
          }
          // The standard dispatcher: each call to {apiHost}/{first letter of its type}.
          report.calls.track = await send("t", message("track", "track", { event: "Browser Test Started", properties: { plan: "pro" } }));
          report.calls.identify = await send("i", message("identify", "identify", { userId: "browser-" + run, traits: { email: "ada@example.com" } }));
          report.calls.page = await send("p", message("page", "page", { name: "Pricing", properties: { path: "/pricing" } }));
          report.calls.simpleTrack = await send("t", message("track", "simple-track", { event: "Sent Without Preflight" }), true);
          // The batching dispatcher: {apiHost}/b, {writeKey, batch, sentAt}, the messages without their sentAt.
          report.calls.batch = await send("b", {
            writeKey: writeKey, sentAt: new Date().toISOString(),
            batch: [1, 2].map(n => { const m = message("track", "batch-" + n, { event: "Batched " + n }); delete m.sentAt; return m; })
          });
          // A server key (no origins configured) from a page: refused, and the script must not see the answer.
          report.calls.serverKey = await send("t", message("track", "server-key", { event: "Not From Here" }, "\#(serverKey)"));
          // A beacon, as pages send on unload.
          const beacon = message("track", "beacon", { event: "Page Left" });
          report.beaconQueued = navigator.sendBeacon(apiHost + "/t", new Blob([JSON.stringify(beacon)], { type: "text/plain" }));
          // RudderStack's JavaScript SDK with useBeacon: a batch to {dataPlaneUrl}/beacon/v1/batch, the key in the query.
          const rudder = { type: "track", event: "Beacon Batch", messageId: run + "-rudder-beacon", anonymousId: "anon-" + run,
            channel: "web", originalTimestamp: new Date().toISOString(), context: { library: { name: "RudderLabs JavaScript SDK" } } };
          report.rudderBeaconQueued = navigator.sendBeacon(cdnURL + "/beacon/v1/batch?writeKey=" + writeKey,
            new Blob([JSON.stringify({ batch: [rudder], sentAt: new Date().toISOString() })], { type: "text/plain" }));
          await fetch("/result", { method: "POST", body: JSON.stringify(report) });
        })();
        </script>
        </body></html>
        """#
    }
}

/// What the test page saw, as it posts it to `/result`.
struct BrowserPageReport: Codable, Sendable, CustomStringConvertible {
    /// The outcome of one `fetch`: the status and whether `{"success": true}` was read, or the error thrown.
    struct Call: Codable, Sendable {
        var status: Int?
        var success: Bool?
        var error: String?
    }

    var calls: [String: Call]
    var beaconQueued: Bool?
    var rudderBeaconQueued: Bool?
    /// `integrations["Segment.io"].apiKey` of the settings the page loaded, or why it could not read them.
    var settingsAPIKey: String?
    var settingsError: String?

    var description: String {
        String(decoding: (try? JSONEncoder().encode(self)) ?? Data(), as: UTF8.self)
    }
}

/// The page's origin: serves `/page` (the HTML set before the browser loads it) and receives the page's report.
final class BrowserTestPage: Sendable {
    private let state = Mutex<(html: String, report: AsyncStream<BrowserPageReport>.Continuation?)>(("", nil))

    var html: String {
        get { state.withLock { $0.html } }
        set { state.withLock { $0.html = newValue } }
    }

    /// The next report the page posts.
    func reports() -> AsyncStream<BrowserPageReport> {
        let (stream, continuation) = AsyncStream.makeStream(of: BrowserPageReport.self)
        state.withLock { $0.report = continuation }
        return stream
    }

    var application: some ApplicationProtocol {
        let router = Router()
        router.get("page") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: self.html)))
        }
        router.post("result") { request, _ -> HTTPResponse.Status in
            let body = try await request.body.collect(upTo: 1 << 20)
            let report = try JSONDecoder().decode(BrowserPageReport.self, from: Data(buffer: body))
            _ = self.state.withLock { $0.report?.yield(report) }
            return .noContent
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }
}

/// Debian's `chromium` (or `HUBSIGNAL_CHROMIUM` from the environment), run headless.
struct Chromium: Sendable {
    let path: String

    /// The browser when one is installed and starts (`--version` succeeds), else `nil`.
    static let executable: Chromium? = {
        let environment = ProcessInfo.processInfo.environment
        var candidates = environment["HUBSIGNAL_CHROMIUM"].map { [$0] } ?? []
        let directories = (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            candidates += directories.map { "\($0)/\(name)" }
        }
        guard let path = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["--version"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        process.waitUntilExit()
        return process.terminationStatus == 0 ? Chromium(path: path) : nil
    }()

    static let missingMessage: Comment =
        "Chromium is not installed (or does not start): `make test` installs Debian's `chromium` package when missing; set HUBSIGNAL_CHROMIUM to a browser's path to use another"

    /// Loads `url` in a fresh headless browser and calls `body` with the first report `page` receives, while the browser
    /// still runs (a beacon may still be on its way); fails, with the browser's log, when no report comes in 60 seconds.
    func load(
        _ url: String, reportingTo page: BrowserTestPage, _ body: (BrowserPageReport) async throws -> Void
    ) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hubsignal-chromium-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let log = directory.appendingPathComponent("chromium.log")
        try #require(FileManager.default.createFile(atPath: log.path, contents: nil), "could not create \(log.path)")
        let logHandle = try FileHandle(forWritingTo: log)
        defer { try? logHandle.close() }

        let reports = page.reports()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
            "--user-data-dir=\(directory.appendingPathComponent("profile").path)", url,
        ]
        process.standardOutput = logHandle
        process.standardError = logHandle
        try process.run()
        defer {
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
        }
        let report = try await withThrowingTaskGroup(of: BrowserPageReport?.self) { group in
            group.addTask {
                for await report in reports { return report }
                return nil
            }
            group.addTask {
                try await Task.sleep(for: .seconds(60))
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            return first
        }
        guard let report else {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            throw BrowserTestFailure("the page posted no report within 60 s; Chromium's log:\n\(text.suffix(4000))")
        }
        try await body(report)
    }
}

struct BrowserTestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
