import App
import Foundation
import HTTPTypes
import Testing
import TestSupport

/// `GET /v1/projects/{writeKey}/settings`: what analytics-next loads from `{cdnURL}/v1/projects/{writeKey}/settings`
/// before it sends anything, and the mobile SDKs from `https://{cdnHost}/projects/{writeKey}/settings`.
@Suite struct SettingsEndpointTests {
    static let page = "https://app.example.com"
    static let browserKey = "browser-key"

    static func withServer(
        publicURL: String? = IngestionTestServer.publicURL, _ body: @escaping @Sendable (IngestionTestServer) async throws -> Void
    ) async throws {
        try await IngestionTestServer.with(configure: { configuration in
            configuration.writeKeys.append(browserKey)
            configuration.corsOrigins = [browserKey: [page]]
            configuration.publicURL = publicURL
        }, body)
    }

    static func segmentIO(_ answer: IngestionTestServer.Answer) -> [String: Any]? {
        (answer.json?["integrations"] as? [String: Any])?["Segment.io"] as? [String: Any]
    }

    /// What analytics-next reads: `integrations["Segment.io"]` with `apiKey` (copied into every body as `writeKey`),
    /// `apiHost` and `protocol`; `metrics.sampleRate` 0 (else it posts its own metrics to api.segment.io).
    @Test func aKnownKeyGetsTheSegmentIOIntegrationPointingAtHubSignal() async throws {
        try await Self.withServer { server in
            let answer = try await server.send(path: "/v1/projects/\(Self.browserKey)/settings", method: .get, body: [], headers: [:])
            #expect(answer.status == .ok, "\(answer.body)")
            #expect(answer.headers[.contentType] == "application/json")
            let segmentIO = try #require(Self.segmentIO(answer))
            #expect(segmentIO["apiKey"] as? String == Self.browserKey)
            #expect(segmentIO["apiHost"] as? String == "hubsignal.example.com/v1")
            #expect(segmentIO["protocol"] as? String == "https")
            #expect((answer.json?["integrations"] as? [String: Any])?.count == 1)
            #expect((answer.json?["metrics"] as? [String: Any])?["sampleRate"] as? Int == 0)
            let plan = answer.json?["plan"] as? [String: Any]
            #expect(((plan?["track"] as? [String: Any])?["__default"] as? [String: Any])?["enabled"] as? Bool == true)
        }
    }

    /// Without `HUBSIGNAL_PUBLIC_URL` the document names no host (the page's `apiHost` applies; a mobile SDK keeps its
    /// own): a guessed host would send the events elsewhere.
    @Test func withoutAPublicURLNoHostIsGiven() async throws {
        try await Self.withServer(publicURL: nil) { server in
            let answer = try await server.send(path: "/v1/projects/\(Self.browserKey)/settings", method: .get, body: [], headers: [:])
            #expect(answer.status == .ok)
            let segmentIO = try #require(Self.segmentIO(answer))
            #expect(segmentIO["apiKey"] as? String == Self.browserKey)
            #expect(segmentIO["apiHost"] == nil && segmentIO["protocol"] == nil)
        }
    }

    /// Segment's CDN answers an unknown write key `404` with a plain-text body; analytics-next throws that text.
    @Test func anUnknownKeyIsNotFound() async throws {
        try await Self.withServer { server in
            let answer = try await server.send(path: "/v1/projects/no-such-key/settings", method: .get, body: [], headers: [.origin: Self.page])
            #expect(answer.status == .notFound)
            #expect(answer.headers[.contentType]?.hasPrefix("text/plain") == true)
            #expect(!answer.body.isEmpty && answer.json == nil)
            #expect(answer.headers[.accessControlAllowOrigin] == Self.page)
        }
    }

    @Test func anAllowedPageReadsTheSettingsAndOthersAreRefused() async throws {
        try await Self.withServer { server in
            let path = "/v1/projects/\(Self.browserKey)/settings"
            let allowed = try await server.send(path: path, method: .get, body: [], headers: [.origin: Self.page])
            #expect(allowed.status == .ok)
            #expect(allowed.headers[.accessControlAllowOrigin] == Self.page)
            #expect(allowed.headers[.vary] == "Origin")

            let other = try await server.send(path: path, method: .get, body: [], headers: [.origin: "https://evil.example.net"])
            #expect(other.status == .forbidden)
            #expect(other.headers[.accessControlAllowOrigin] == nil)

            let serverKey = try await server.send(
                path: "/v1/projects/\(IngestionTestServer.writeKey)/settings", method: .get, body: [], headers: [.origin: Self.page])
            #expect(serverKey.status == .forbidden)

            // A mobile SDK sends no Origin: a server key's settings are served.
            let mobile = try await server.send(
                path: "/v1/projects/\(IngestionTestServer.writeKey)/settings", method: .get, body: [], headers: [:])
            #expect(mobile.status == .ok)
        }
    }

    @Test func aPublicURLWithAPathAndPortGivesTheirAPIHost() async throws {
        try await Self.withServer(publicURL: "http://localhost:8080/segment/") { server in
            let answer = try await server.send(path: "/v1/projects/\(Self.browserKey)/settings", method: .get, body: [], headers: [:])
            let segmentIO = try #require(Self.segmentIO(answer))
            #expect(segmentIO["apiHost"] as? String == "localhost:8080/segment/v1")
            #expect(segmentIO["protocol"] as? String == "http")
        }
    }
}
