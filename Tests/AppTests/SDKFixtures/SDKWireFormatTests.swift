import App
import Foundation
import HTTPTypes
import NIOCore
import Testing

/// Each SDK's requests, replayed byte for byte as its source builds them (`SDKFixture`), against a live HubSignal
/// server on a fresh database: every event is stored exactly once, with its type and identity, and the SDK's retry of
/// the same bytes stores nothing more.
@Suite struct SDKWireFormatTests {
    @Test(arguments: SDKFixture.all)
    func eachEventIsStoredOnceAsTheSDKSendsIt(_ fixture: SDKFixture) async throws {
        // The page the browser SDKs run on is allowed for the key, as a browser source's key is configured.
        try await IngestionTestServer.with(configure: { $0.corsOrigins = [IngestionTestServer.writeKey: [SDKFixture.pageOrigin]] }) { server in
            // The SDK's requests, then all of them again: what an SDK does when it saw a network error, not the answer.
            for attempt in 1...2 {
                for request in fixture.requests {
                    let answer = try await server.send(request, writeKey: IngestionTestServer.writeKey)
                    #expect(answer.status == .ok, "attempt \(attempt), \(request.path): \(answer.body)")
                    #expect(answer.json?["success"] as? Bool == true, "\(request.path): \(answer.body)")
                    #expect(answer.json?["rejected"] == nil, "\(request.path): a message was rejected: \(answer.body)")
                    if let origin = request.headers.first(where: { $0.name == "Origin" })?.value {
                        // What lets the page's script read the answer (a sendBeacon never does, but gets it too).
                        #expect(answer.headers[.accessControlAllowOrigin] == origin, "\(request.path): \(answer.headers)")
                    }
                }
            }
            let rows = try await server.database.client.query("SELECT idempotency_key, type, stream FROM events ORDER BY position")
            let stored = try rows.map { try $0.decode((String, String, String).self) }
            let scope = WriteKeyIDs.of(IngestionTestServer.writeKey) + ":"
            #expect(stored.map(\.0) == fixture.events.map { scope + $0.messageID }, "each event once, in the SDK's order")
            for (row, event) in zip(stored, fixture.events) {
                #expect(row.1 == "segment." + event.type, "\(event.messageID)")
                #expect(row.2 == event.stream, "\(event.messageID)")
            }
        }
    }

    /// HubSignal's refusals of what can never be stored — a write key it does not know, a body that is not JSON — are
    /// JSON errors (analytics-ruby parses every answer) with a status the SDK drops rather than sends again. The SDKs
    /// that resend whatever fails (analytics-go v3 and RudderStack Go for 10 attempts, RudderStack Android and iOS on
    /// every flush) cannot be answered into dropping; docs/sdks.md says so.
    @Test(arguments: SDKFixture.all)
    func refusalsAreAnswersTheSDKDrops(_ fixture: SDKFixture) async throws {
        try await IngestionTestServer.with(configure: { $0.corsOrigins = [IngestionTestServer.writeKey: [SDKFixture.pageOrigin]] }) { server in
            var truncated = fixture.requests[0]
            truncated.body = String(truncated.body.dropLast(2))
            let answers = [
                try await server.send(fixture.requests[0], writeKey: "a-key-hubsignal-does-not-know"),
                try await server.send(truncated, writeKey: IngestionTestServer.writeKey),
            ]
            for answer in answers {
                #expect(answer.error != nil, "a JSON error body: \(answer.body)")
                #expect((400..<500).contains(answer.status.code), "\(answer.status)")
                if fixture.retryRule.dropsRefusals {
                    #expect(!fixture.retryRule.retries(answer.status.code), "\(fixture.sdk) would resend an answer \(answer.status)")
                }
            }
            let counts = try await server.counts()
            #expect(counts.events == 0 && counts.rejections == 0)
        }
    }

    /// Each SDK's settings request, with its path and headers, gets settings it can use: a JSON object whose
    /// `integrations["Segment.io"].apiKey` is the key (the SDKs copy it into each body as `writeKey`), readable by the
    /// page when the browser asks.
    @Test(arguments: SDKFixture.settingsRequests)
    func eachSDKLoadsItsSettings(_ request: SDKFixture.SettingsRequest) async throws {
        try await IngestionTestServer.with(configure: { $0.corsOrigins = [IngestionTestServer.writeKey: [SDKFixture.pageOrigin]] }) { server in
            var headers = HTTPFields()
            for (name, value) in request.headers {
                headers.append(HTTPField(name: HTTPField.Name(name)!, value: value))
            }
            let path = SDKFixture.filled(request.path, writeKey: IngestionTestServer.writeKey)
            let answer = try await server.send(path: path, method: .get, body: [], headers: headers)
            #expect(answer.status == .ok, "\(answer.body)")
            let integrations = answer.json?["integrations"] as? [String: Any]
            let segmentIO = integrations?["Segment.io"] as? [String: Any]
            #expect(segmentIO?["apiKey"] as? String == IngestionTestServer.writeKey, "\(answer.body)")
            if let origin = request.headers.first(where: { $0.name == "Origin" })?.value {
                #expect(answer.headers[.accessControlAllowOrigin] == origin, "\(answer.headers)")
            }
        }
    }

    /// What the fixtures claim about themselves holds: each names its source and commit, each request has a body
    /// that is valid JSON once filled in, and each expected event's `messageId` is in a request. A fixture that
    /// carried an event nowhere would make the storage test above prove nothing about it.
    @Test(arguments: SDKFixture.all)
    func fixturesAreWellFormed(_ fixture: SDKFixture) throws {
        #expect(!fixture.sources.isEmpty)
        #expect(fixture.commit.contains("@") || fixture.commit.hasPrefix("PyPI "), "a commit or a PyPI release")
        var bodies = ""
        for request in fixture.requests {
            let body = SDKFixture.filled(request.body, writeKey: "k")
            #expect((try? JSONSerialization.jsonObject(with: Data(body.utf8))) is [String: Any], "\(request.path)")
            bodies += body
        }
        for event in fixture.events {
            #expect(bodies.contains("\"\(event.messageID)\""), "\(event.messageID)")
        }
    }

    /// docs/sdks.md has a row for every SDK tested here and by `PythonSDKTests`, naming the test's argument and the
    /// commit read, so the table and the tests cannot drift apart.
    @Test func theSDKTableNamesEveryTestedSDK() throws {
        let table = try String(contentsOf: PythonSDKs.packageRoot.appendingPathComponent("docs/sdks.md"), encoding: .utf8)
        for fixture in SDKFixture.all {
            #expect(table.contains("\"\(fixture.testDescription)\""), "docs/sdks.md does not name \(fixture.testDescription)")
            if !fixture.commit.hasPrefix("PyPI ") {
                #expect(table.contains("(\(fixture.commit))"), "docs/sdks.md does not name \(fixture.commit)")
            }
        }
        for library in PythonSDKs.Library.allCases {
            #expect(table.contains("\"\(library.testDescription)\""), "docs/sdks.md does not name \(library.testDescription)")
        }
    }
}

extension IngestionTestServer {
    /// Sends one SDK request as its fixture describes it.
    func send(_ request: SDKFixture.Request, writeKey: String) async throws -> Answer {
        let (headers, body) = try SDKFixture.wire(request, writeKey: writeKey)
        return try await client.execute(
            uri: SDKFixture.filled(request.path, writeKey: writeKey), method: request.method, headers: headers, body: body
        ) { response in
            Answer(status: response.status, headers: response.headers, body: String(decoding: response.body.readableBytesView, as: UTF8.self))
        }
    }
}
