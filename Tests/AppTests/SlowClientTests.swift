import App
import FaultHarness
import Foundation
import HTTPTypes
import Testing
import TestSupport

/// Slow and idle clients (issue 18 §2), over plain sockets against the live server with short timeouts: a body that
/// trickles in loses its connection at the request deadline, an idle connection (or one whose head trickles in) at
/// the idle timeout, and requests beyond the concurrency limit are answered `503` with `Retry-After` before their
/// bodies are read. Meanwhile the server keeps answering everyone else.
@Suite struct SlowClientTests {
    typealias Server = IngestionTestServer

    /// The head of a Segment request announcing a body of `length` bytes, authenticated by the header.
    static func head(path: String = "/v1/track", length: Int) -> [UInt8] {
        let authorization = "Basic " + Data((Server.writeKey + ":").utf8).base64EncodedString()
        return Array(
            "POST \(path) HTTP/1.1\r\nHost: localhost\r\nAuthorization: \(authorization)\r\nContent-Type: application/json\r\nContent-Length: \(length)\r\n\r\n"
                .utf8)
    }

    @Test func tricklingBodiesLoseTheirConnectionAtTheDeadlineWhileOthersAreAnswered() async throws {
        try await Server.with(configure: { configuration in
            configuration.httpRequestTimeout = .seconds(3)
            configuration.httpIdleTimeout = .seconds(60)
        }) { server in
            let port = try #require(server.client.port)
            let started = ContinuousClock.now
            // Four clients send a head, then one byte of body every 100 ms (the idle timeout never sees them idle).
            let trickles = (0..<4).map { index in
                Task {
                    try await RawConnection.trickle(
                        port: port, head: Self.head(path: index.isMultiple(of: 2) ? "/v1/track" : "/v1/batch", length: 10_000),
                        interval: .milliseconds(100), giveUpAfter: .seconds(12))
                }
            }
            // Meanwhile everyone else is answered (for as long as the trickling clients should take to be cut off).
            var answeredAt: [ContinuousClock.Instant] = []
            while ContinuousClock.now - started < .seconds(4) {
                let body = Array(#"{"userId": "u-\#(answeredAt.count)", "event": "Meanwhile", "messageId": "meanwhile-\#(answeredAt.count)"}"#.utf8)
                let answer = try await server.send(.track, body: body)
                #expect(answer.status == .ok, "\(answer.body)")
                answeredAt.append(ContinuousClock.now)
                try await Task.sleep(for: .milliseconds(100))
            }
            var firstClosed = started + .seconds(60)
            for trickle in trickles {
                let outcome = try await trickle.value
                guard case .closed(let after, let bytesSent) = outcome else {
                    Issue.record("a trickling request was not cut off: \(outcome)")
                    continue
                }
                #expect(after >= .milliseconds(2_900) && after < .seconds(8), "closed after \(after)")
                #expect(bytesSent < 10_000)
                firstClosed = min(firstClosed, started + after)
            }
            // At least one answer while all four were open; how many depends on the machine's load (a full suite on two
            // cores answered only one in the three seconds), which is the benchmarks' business, not this test's.
            let answeredMeanwhile = answeredAt.filter { $0 < firstClosed }.count
            #expect(answeredMeanwhile >= 1, "\(answeredMeanwhile) requests answered while the slow ones were open")
            #expect(try await server.counts().events == answeredAt.count, "nothing of the trickled requests is stored")
            try await server.expectStillAnswering()
        }
    }

    @Test func idleConnectionsAndTricklingHeadsAreClosedAtTheIdleTimeout() async throws {
        try await Server.with(configure: { configuration in
            configuration.httpIdleTimeout = .seconds(1)
            configuration.httpRequestTimeout = .seconds(60)
        }) { server in
            let port = try #require(server.client.port)
            // Connected, and nothing sent.
            let silent = Task {
                try await RawConnection.trickle(port: port, head: [], interval: .milliseconds(100), giveUpAfter: .seconds(8), filler: nil)
            }
            // A head that never ends: one header byte every 100 ms.
            let slowHead = Task {
                try await RawConnection.trickle(
                    port: port, head: Array("POST /v1/track HTTP/1.1\r\nHost: localhost\r\nX-Pad: ".utf8), interval: .milliseconds(100),
                    giveUpAfter: .seconds(8), filler: UInt8(ascii: "a"))
            }
            for (name, task) in [("silent", silent), ("slow head", slowHead)] {
                let outcome = try await task.value
                guard case .closed(let after, _) = outcome else {
                    Issue.record("\(name): the connection stayed open: \(outcome)")
                    continue
                }
                #expect(after >= .milliseconds(900) && after < .seconds(6), "\(name): closed after \(after)")
            }
            // (The test client's own kept-alive connection was closed as idle too: ask on a new one.)
            let health = try await RawConnection.exchange(port: port, request: "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            #expect(health.status == 200)
        }
    }

    @Test func theTimeoutsAndTheLimitComeFromTheEnvironmentWithSaneDefaults() throws {
        let defaults = try AppConfiguration.fromEnvironment([:], requireDatabase: false)
        #expect(defaults.httpIdleTimeout == .seconds(75))
        #expect(defaults.httpRequestTimeout == .seconds(30))
        #expect(defaults.httpMaximumConcurrentRequests == 256)
        let set = try AppConfiguration.fromEnvironment(
            [
                "HUBSIGNAL_HTTP_IDLE_TIMEOUT_SECONDS": "20", "HUBSIGNAL_HTTP_REQUEST_TIMEOUT_SECONDS": "5",
                "HUBSIGNAL_HTTP_MAX_CONCURRENT_REQUESTS": "64",
            ], requireDatabase: false)
        #expect(set.httpIdleTimeout == .seconds(20))
        #expect(set.httpRequestTimeout == .seconds(5))
        #expect(set.httpMaximumConcurrentRequests == 64)
        for (name, value) in [
            ("HUBSIGNAL_HTTP_IDLE_TIMEOUT_SECONDS", "0"), ("HUBSIGNAL_HTTP_REQUEST_TIMEOUT_SECONDS", "soon"),
            ("HUBSIGNAL_HTTP_MAX_CONCURRENT_REQUESTS", "-1"),
        ] {
            let error = #expect(throws: ConfigurationError.self) { try AppConfiguration.fromEnvironment([name: value], requireDatabase: false) }
            #expect(error?.description.contains(name) == true)
        }
    }

    @Test func requestsBeyondTheConcurrencyLimitAreAnswered503WithRetryAfter() async throws {
        try await Server.with(configure: { configuration in
            configuration.httpMaximumConcurrentRequests = 2
            // Long enough that the third request arrives while both places are held, however busy the machine.
            configuration.httpRequestTimeout = .seconds(10)
        }) { server in
            let port = try #require(server.client.port)
            // Two slow requests hold both places until their deadline.
            let holders = (0..<2).map { _ in
                Task { try await RawConnection.trickle(port: port, head: Self.head(length: 1_000), interval: .milliseconds(100), giveUpAfter: .seconds(20)) }
            }
            try await Task.sleep(for: .seconds(1))
            let body = Array(#"{"userId": "u", "event": "Busy", "messageId": "busy-1"}"#.utf8)
            let refused = try await server.send(.track, body: body)
            #expect(refused.status == .serviceUnavailable, "\(refused.body)")
            #expect(refused.headers[.retryAfter] == "1")
            #expect(refused.error?.code == "busy")
            #expect(refused.error?.message.contains("nothing was read or stored") == true)
            // Liveness is not refused.
            let health = try await server.send(path: "/healthz", method: .get, body: [], headers: [:])
            #expect(health.status == .ok)
            for holder in holders {
                let outcome = try await holder.value
                guard case .closed = outcome else {
                    Issue.record("a slow request was not cut off: \(outcome)")
                    continue
                }
            }
            // Their places are free again.
            let accepted = try await server.send(.track, body: body)
            #expect(accepted.status == .ok, "\(accepted.body)")
            #expect(try await server.counts().events == 1)
        }
    }

    /// A page of an allowed origin reads the busy answer and its `Retry-After` (else the SDK sees a network error), and
    /// its preflight is not refused by the limit; another origin's page gets no CORS headers.
    @Test func aBusyAnswerIsReadableByAnAllowedPage() async throws {
        let page = "https://app.example.com"
        try await Server.with(configure: { configuration in
            configuration.httpMaximumConcurrentRequests = 2
            configuration.httpRequestTimeout = .seconds(10)
            configuration.writeKeys.append("browser-key")
            configuration.corsOrigins = ["browser-key": [page]]
        }) { server in
            let port = try #require(server.client.port)
            let holders = (0..<2).map { _ in
                Task { try await RawConnection.trickle(port: port, head: Self.head(length: 1_000), interval: .milliseconds(100), giveUpAfter: .seconds(20)) }
            }
            try await Task.sleep(for: .seconds(1))
            let body = Array(#"{"type": "track", "event": "Busy", "anonymousId": "a", "messageId": "busy-page", "writeKey": "browser-key"}"#.utf8)
            let preflight = try await server.send(
                path: "/v1/t", method: .options, body: [],
                headers: [.origin: page, .accessControlRequestMethod: "POST", .accessControlRequestHeaders: "content-type"])
            #expect(preflight.status == .noContent)
            #expect(preflight.headers[.accessControlAllowOrigin] == page)
            let refused = try await server.send(path: "/v1/t", body: body, headers: [.contentType: "text/plain", .origin: page])
            #expect(refused.status == .serviceUnavailable, "\(refused.body)")
            #expect(refused.headers[.accessControlAllowOrigin] == page)
            #expect(refused.headers[.accessControlExposeHeaders]?.contains("Retry-After") == true)
            #expect(refused.headers[.retryAfter] == "1")
            let foreign = try await server.send(path: "/v1/t", body: body, headers: [.contentType: "text/plain", .origin: "https://evil.example.net"])
            #expect(foreign.status == .serviceUnavailable)
            #expect(foreign.headers[.accessControlAllowOrigin] == nil)
            for holder in holders { _ = try await holder.value }
            #expect(try await server.counts().events == 0)
        }
    }
}

/// A plain TCP connection to the test server, written from a thread of its own (blocking calls never run on the
/// cooperative pool, which serves the server's handlers).
enum RawConnection {
    enum Outcome: Sendable, CustomStringConvertible {
        /// The server closed the connection `after` this long, having received `bytesSent` bytes after the head.
        case closed(after: Duration, bytesSent: Int)
        /// The server answered (it should not have).
        case answered(String)
        /// Still open when the client gave up.
        case stillOpen

        var description: String {
            switch self {
            case .closed(let after, let bytes): "closed after \(after) and \(bytes) bytes"
            case .answered(let text): "answered: \(text.prefix(200))"
            case .stillOpen: "still open"
            }
        }
    }

    /// Sends a whole request on a new connection (`RawHTTP`, from a thread of its own) and returns the response.
    static func exchange(port: Int, request: String) async throws -> RawHTTP.Response {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try RawHTTP.send(port: port, request: request, timeout: .seconds(10)) }) }
        }
    }

    /// Connects to 127.0.0.1:`port`, sends `head`, then one `filler` byte (none when `nil`) every `interval` until the
    /// server closes the connection, answers, or `giveUpAfter` passes.
    static func trickle(
        port: Int, head: [UInt8], interval: Duration, giveUpAfter: Duration, filler: UInt8? = UInt8(ascii: " ")
    ) async throws -> Outcome {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try trickleBlocking(port: port, head: head, interval: interval, giveUpAfter: giveUpAfter, filler: filler) })
            }
        }
    }

    private static func trickleBlocking(port: Int, head: [UInt8], interval: Duration, giveUpAfter: Duration, filler: UInt8?) throws -> Outcome {
        let descriptor = try RawHTTP.connectLoopback(port: port)
        defer { close(descriptor) }
        let start = ContinuousClock.now
        guard sendAll(descriptor, head) else { return .closed(after: .zero, bytesSent: 0) }
        var sent = 0
        while ContinuousClock.now - start < giveUpAfter {
            // Wait up to `interval` for the server to close or answer.
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let milliseconds = Int32(interval.components.seconds * 1000 + interval.components.attoseconds / 1_000_000_000_000_000)
            if poll(&poller, 1, milliseconds) > 0 {
                var buffer = [UInt8](repeating: 0, count: 4096)
                let count = recv(descriptor, &buffer, buffer.count, 0)
                if count <= 0 { return .closed(after: ContinuousClock.now - start, bytesSent: sent) }
                return .answered(String(decoding: buffer[0..<count], as: UTF8.self))
            }
            guard let filler else { continue }
            guard sendAll(descriptor, [filler]) else { return .closed(after: ContinuousClock.now - start, bytesSent: sent) }
            sent += 1
        }
        return .stillOpen
    }

    /// Writes everything; `false` when the server has closed the connection.
    private static func sendAll(_ descriptor: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { return false }
            offset += written
        }
        return true
    }
}
