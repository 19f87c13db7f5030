import App
import Foundation
import HTTPTypes
import Testing
import TestSupport

/// The per-write-key rate limit (`HUBSIGNAL_WRITE_KEY_RATE_LIMIT`): off by default; over it, `429` with the headers
/// the SDKs read, readable by an allowed page, nothing stored.
@Suite struct WriteKeyRateLimitTests {
    static let page = "https://app.example.com"

    static func track(_ messageID: String) -> [UInt8] {
        Array(#"{"userId": "u1", "event": "E", "messageId": "\#(messageID)"}"#.utf8)
    }

    /// Two requests per hour: the third is refused for about half an hour, however slowly the test runs.
    @Test func requestsOverTheLimitAreAnswered429WithRetryAfter() async throws {
        try await IngestionTestServer.with(configure: { configuration in
            configuration.writeKeyRateLimit = .init(requests: 2, period: .seconds(3600))
            configuration.writeKeys.append("other-key")
        }) { server in
            for index in 1...2 {
                let answer = try await server.send(.track, body: Self.track("m-\(index)"))
                #expect(answer.status == .ok, "\(answer.body)")
            }
            let refused = try await server.send(.track, body: Self.track("m-3"))
            #expect(refused.status == .tooManyRequests)
            #expect(refused.error?.code == "rate_limited")
            let retryAfter = try #require(refused.headers[.retryAfter].flatMap { Int($0) })
            #expect(retryAfter > 1000 && retryAfter <= 1800)
            #expect(refused.headers[HTTPField.Name("X-RateLimit-Reset")!] == "\(retryAfter)")
            #expect(try await server.storedCounts(source: "segment", keys: ["m-1", "m-2", "m-3"]) == ["m-1": 1, "m-2": 1])

            // Another key has its own bucket.
            let other = try await server.send(.track, body: Self.track("m-4"), headers: IngestionTestServer.basic("other-key"))
            #expect(other.status == .ok)
        }
    }

    /// A page reads the 429 and its `Retry-After` (CORS headers, exposed), so analytics-next waits instead of retrying
    /// at once.
    @Test func anAllowedPageReadsThe429() async throws {
        try await IngestionTestServer.with(configure: { configuration in
            configuration.writeKeyRateLimit = .init(requests: 1, period: .seconds(3600))
            configuration.corsOrigins = [IngestionTestServer.writeKey: [Self.page]]
        }) { server in
            var headers = IngestionTestServer.basic(IngestionTestServer.writeKey)
            headers[.origin] = Self.page
            #expect(try await server.send(path: "/v1/t", body: Self.track("m-1"), headers: headers).status == .ok)
            let refused = try await server.send(path: "/v1/t", body: Self.track("m-2"), headers: headers)
            #expect(refused.status == .tooManyRequests)
            #expect(refused.headers[.accessControlAllowOrigin] == Self.page)
            #expect(refused.headers[.accessControlExposeHeaders]?.contains("Retry-After") == true)
        }
    }

    /// The bucket refills over its period: after a period without requests a key sends again. (That requests within
    /// the period are refused is the hour-long test above, which no slow machine can make pass wrongly.)
    @Test func theBucketRefillsOverItsPeriod() async throws {
        try await IngestionTestServer.with(configure: { configuration in
            configuration.writeKeyRateLimit = .init(requests: 1, period: .seconds(1))
        }) { server in
            for index in 1...2 {
                let answer = try await server.send(.track, body: Self.track("m-\(index)"))
                #expect(answer.status == .ok, "\(answer.body)")
                try await Task.sleep(for: .milliseconds(1100))
            }
        }
    }

    @Test func theLimitIsOffByDefault() async throws {
        #expect(try AppConfiguration.fromEnvironment([:], requireDatabase: false).writeKeyRateLimit == nil)
        try await IngestionTestServer.with { server in
            for index in 1...30 {
                let answer = try await server.send(.track, body: Self.track("m-\(index)"))
                #expect(answer.status == .ok)
            }
        }
    }

    @Test func theVariableIsRead() throws {
        func read(_ value: String) throws -> AppConfiguration.RateLimit? {
            try AppConfiguration.fromEnvironment(["HUBSIGNAL_WRITE_KEY_RATE_LIMIT": value], requireDatabase: false).writeKeyRateLimit
        }
        #expect(try read("100") == .init(requests: 100, period: .seconds(1)))
        #expect(try read("600/60") == .init(requests: 600, period: .seconds(60)))
        for invalid in ["0", "-1", "10/0", "ten", "10/"] {
            #expect(throws: ConfigurationError.self, "\(invalid)") { try read(invalid) }
        }
    }
}
