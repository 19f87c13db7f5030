import App
import Foundation
import HTTPTypes
import Testing
import TestSupport

/// CORS for browser write keys (`HUBSIGNAL_CORS_ORIGINS`): preflights, readable answers (errors too) for allowed pages,
/// and server keys refused to pages.
@Suite struct CORSTests {
    static let page = "https://app.example.com"
    static let otherPage = "https://evil.example.net"
    static let browserKey = "browser-key"
    /// `IngestionTestServer.writeKey`, which has no origins: a server key.
    static let serverKey = IngestionTestServer.writeKey

    static func withServer(
        origins: [String: [String]] = [browserKey: [page]], _ body: @escaping @Sendable (IngestionTestServer) async throws -> Void
    ) async throws {
        try await IngestionTestServer.with(configure: { configuration in
            configuration.writeKeys += origins.keys.filter { $0 != serverKey }
            configuration.corsOrigins = origins
        }, body)
    }

    static func track(_ messageID: String, writeKey: String = browserKey, event: String = "Clicked") -> [UInt8] {
        Array(#"{"type": "track", "event": "\#(event)", "anonymousId": "a1", "messageId": "\#(messageID)", "writeKey": "\#(writeKey)"}"#.utf8)
    }

    static func fromPage(_ origin: String) -> HTTPFields { [.contentType: "text/plain", .origin: origin] }

    /// A preflight as Chromium sends it before analytics-next's `fetch` (`Content-Type: text/plain`, `Authorization`
    /// Basic, and `X-Retry-Count` on retries).
    static let preflightHeaders: HTTPFields = [
        .origin: page, .accessControlRequestMethod: "POST", .accessControlRequestHeaders: "authorization,content-type,x-retry-count",
    ]

    @Test(arguments: ["/v1/t", "/v1/track", "/v1/b", "/v1/batch", "/beacon/v1/batch"])
    func aPreflightFromAnAllowedOriginIsAnswered(_ path: String) async throws {
        try await Self.withServer { server in
            let answer = try await server.send(path: path, method: .options, body: [], headers: Self.preflightHeaders)
            #expect(answer.status == .noContent)
            #expect(answer.headers[.accessControlAllowOrigin] == Self.page)
            #expect(answer.headers[.accessControlAllowMethods]?.contains("POST") == true)
            #expect(answer.headers[.accessControlAllowHeaders] == "authorization,content-type,x-retry-count")
            #expect(answer.headers[.accessControlMaxAge] == "7200")
            #expect(answer.headers[.vary]?.contains("Origin") == true)
        }
    }

    /// Without a list of header names asked for, the preflight allows the headers the SDKs send.
    @Test func aPreflightWithoutRequestedHeadersAllowsTheSDKsHeaders() async throws {
        try await Self.withServer { server in
            for requested in [nil, "x-evil; set-cookie=1"] as [String?] {
                var headers: HTTPFields = [.origin: Self.page, .accessControlRequestMethod: "POST"]
                if let requested { headers[.accessControlRequestHeaders] = requested }
                let answer = try await server.send(path: "/v1/t", method: .options, body: [], headers: headers)
                #expect(answer.status == .noContent)
                let allowed = answer.headers[.accessControlAllowHeaders]?.lowercased() ?? ""
                #expect(allowed.contains("content-type") && allowed.contains("authorization") && allowed.contains("x-retry-count"))
            }
        }
    }

    @Test func aPreflightFromAnotherOriginIsRefusedWithoutCORSHeaders() async throws {
        try await Self.withServer { server in
            var headers = Self.preflightHeaders
            headers[.origin] = Self.otherPage
            let answer = try await server.send(path: "/v1/t", method: .options, body: [], headers: headers)
            #expect(answer.status == .forbidden)
            #expect(answer.headers[.accessControlAllowOrigin] == nil)
            #expect(answer.error?.code == "origin_not_allowed")
        }
    }

    @Test func anAllowedPageReadsTheAnswerAndItsRetryHeaders() async throws {
        try await Self.withServer { server in
            let answer = try await server.send(path: "/v1/t", body: Self.track("m-1"), headers: Self.fromPage(Self.page))
            #expect(answer.status == .ok, "\(answer.body)")
            #expect(answer.headers[.accessControlAllowOrigin] == Self.page)
            #expect(answer.headers[.vary] == "Origin")
            let exposed = answer.headers[.accessControlExposeHeaders]?.lowercased() ?? ""
            #expect(exposed.contains("retry-after") && exposed.contains("x-ratelimit-reset"))
            #expect(try await server.counts().events == 1)
        }
    }

    /// Current analytics-next sends the key in `Authorization` as well as in the body.
    @Test func anAllowedPageMayAuthenticateWithTheHeader() async throws {
        try await Self.withServer { server in
            var headers = IngestionTestServer.basic(Self.browserKey)
            headers[.contentType] = "text/plain"
            headers[.origin] = Self.page
            let answer = try await server.send(path: "/v1/b", body: Array(#"{"batch": [{"type": "track", "event": "E", "anonymousId": "a", "messageId": "h-1"}]}"#.utf8), headers: headers)
            #expect(answer.status == .ok, "\(answer.body)")
            #expect(answer.headers[.accessControlAllowOrigin] == Self.page)
        }
    }

    /// A page must read a 400 (drop the event) and a 401 as well as a 200, or it sees a network error and retries.
    @Test func anAllowedPageReadsErrors() async throws {
        try await Self.withServer { server in
            let invalid = try await server.send(path: "/v1/t", body: Self.track("m-1", event: ""), headers: Self.fromPage(Self.page))
            #expect(invalid.status == .badRequest)
            #expect(invalid.headers[.accessControlAllowOrigin] == Self.page)

            let unknownKey = try await server.send(
                path: "/v1/t", body: Self.track("m-2", writeKey: "unknown"), headers: Self.fromPage(Self.page))
            #expect(unknownKey.status == .unauthorized)
            #expect(unknownKey.headers[.accessControlAllowOrigin] == Self.page)
            #expect(try await server.counts().events == 0)
        }
    }

    @Test func aServerKeyIsRefusedToPages() async throws {
        try await Self.withServer { server in
            let answer = try await server.send(
                path: "/v1/t", body: Self.track("m-1", writeKey: Self.serverKey), headers: Self.fromPage(Self.page))
            #expect(answer.status == .forbidden)
            #expect(answer.error?.code == "origin_not_allowed")
            #expect(answer.headers[.accessControlAllowOrigin] == nil)
            #expect(try await server.counts().events == 0)

            // The same request from a server (no Origin) is accepted, without CORS headers.
            let fromServer = try await server.send(
                path: "/v1/t", body: Self.track("m-1", writeKey: Self.serverKey), headers: [.contentType: "application/json"])
            #expect(fromServer.status == .ok)
            #expect(fromServer.headers[.accessControlAllowOrigin] == nil)
        }
    }

    /// With the key in the `Authorization` header, a page the key does not allow is refused before its body is read:
    /// an invalid body gets 403, not 400.
    @Test func aHeaderKeyIsCheckedAgainstTheOriginBeforeTheBody() async throws {
        try await Self.withServer { server in
            var headers = IngestionTestServer.basic(Self.serverKey)
            headers[.origin] = Self.page
            let answer = try await server.send(path: "/v1/b", body: Array("not json".utf8), headers: headers)
            #expect(answer.status == .forbidden)
            #expect(answer.headers[.accessControlAllowOrigin] == nil)
        }
    }

    @Test func aBrowserKeyIsRefusedToOtherPages() async throws {
        try await Self.withServer { server in
            let answer = try await server.send(path: "/v1/t", body: Self.track("m-1"), headers: Self.fromPage(Self.otherPage))
            #expect(answer.status == .forbidden)
            #expect(answer.headers[.accessControlAllowOrigin] == nil)
            #expect(try await server.counts().events == 0)
        }
    }

    @Test func aStarKeyAcceptsEveryPage() async throws {
        try await Self.withServer(origins: [Self.browserKey: ["*"]]) { server in
            let answer = try await server.send(path: "/v1/t", body: Self.track("m-1"), headers: Self.fromPage(Self.otherPage))
            #expect(answer.status == .ok)
            #expect(answer.headers[.accessControlAllowOrigin] == Self.otherPage)
        }
    }

    // MARK: - Configuration

    static func configuration(_ variables: [String: String]) throws -> AppConfiguration {
        try AppConfiguration.fromEnvironment(variables.merging(["HUBSIGNAL_WRITE_KEYS": "k1,k2"]) { own, _ in own }, requireDatabase: false)
    }

    @Test func originsAreReadNormalizedPerKey() throws {
        let configuration = try Self.configuration([
            "HUBSIGNAL_CORS_ORIGINS": "k1=HTTPS://App.Example.com:443|http://localhost:3000, k2=*"
        ])
        #expect(configuration.corsOrigins == ["k1": ["https://app.example.com", "http://localhost:3000"], "k2": ["*"]])
        #expect(try Self.configuration([:]).corsOrigins.isEmpty)
    }

    @Test(arguments: ["k1=https://app.example.com/path", "k1=app.example.com", "k1=ftp://files.example.com", "k1=", "https://app.example.com"])
    func anInvalidOriginListIsRefused(_ value: String) throws {
        #expect(throws: ConfigurationError.self) { try Self.configuration(["HUBSIGNAL_CORS_ORIGINS": value]) }
    }

    @Test func aKeyThatIsNotAWriteKeyIsRefused() throws {
        let error = #expect(throws: ConfigurationError.self) {
            try Self.configuration(["HUBSIGNAL_CORS_ORIGINS": "typo-key=https://app.example.com"])
        }
        #expect(error?.description.contains("HUBSIGNAL_WRITE_KEYS") == true)
        #expect(error?.description.contains("typo-key") == false)
    }
}
