import Foundation
import Ingestion
import OneSignalSandbox
import Testing

@Suite("Injected faults")
struct FaultTests {
    @Test("A status fault answers instead of the sandbox, once, without applying the request")
    func statusFault() async throws {
        try await withSandbox { sandbox, client in
            try sandbox.seedUser(appID: TestApps.a.id, externalID: "f1")
            sandbox.faults.inject(
                .status(503, body: Data(#"{"errors":["Service temporarily unavailable"]}"#.utf8), headers: [("Retry-After", "5")]),
                times: 1, pathPrefix: "/apps/")
            let faulted = try await client.send(.PATCH, Paths.user("f1"), body: #"{"properties":{"tags":{"a":"1"}}}"#)
            #expect(faulted.status == 503)
            #expect(faulted.headers.first(name: "Retry-After") == "5")
            #expect(faulted.json == json(#"{"errors":["Service temporarily unavailable"]}"#))
            #expect(sandbox.user(appID: TestApps.a.id, externalID: "f1")?.tags == [:])

            let retried = try await client.send(.PATCH, Paths.user("f1"), body: #"{"properties":{"tags":{"a":"1"}}}"#)
            #expect(retried.status == 202)
            #expect(sandbox.user(appID: TestApps.a.id, externalID: "f1")?.tags == ["a": "1"])
            #expect(sandbox.requests.count == 2)
            #expect(sandbox.requests.all.map(\.status) == [503, 202])
        }
    }

    @Test("A path prefix limits a fault to matching requests")
    func prefixFault() async throws {
        try await withSandbox { sandbox, client in
            try sandbox.seedUser(appID: TestApps.a.id, externalID: "f2", subscriptions: [.init(type: "iOSPush", token: "t")])
            sandbox.faults.inject(.status(500), times: 1, pathPrefix: "/notifications")
            let user = try await client.send(.GET, Paths.user("f2"))
            #expect(user.status == 200)
            let send = try await client.send(
                .POST, "/notifications",
                body: #"{"app_id":"\#(TestApps.a.id)","include_aliases":{"external_id":["f2"]},"target_channel":"push","contents":{"en":"x"}}"#)
            #expect(send.status == 500)
            #expect(sandbox.notifications(appID: TestApps.a.id).isEmpty)
        }
    }

    @Test("Latency delays, a timeout answers 504 without applying, a dropped connection fails the call")
    func timingFaults() async throws {
        try await withSandbox { sandbox, client in
            try sandbox.seedUser(appID: TestApps.a.id, externalID: "f3")
            sandbox.faults.inject(.latency(.milliseconds(300)))
            let started = ContinuousClock.now
            let slow = try await client.send(.GET, Paths.user("f3"))
            #expect(slow.status == 200)
            #expect(ContinuousClock.now - started >= .milliseconds(300))

            sandbox.faults.inject(.timeout(.milliseconds(100)))
            let timedOut = try await client.send(.PATCH, Paths.user("f3"), body: #"{"properties":{"tags":{"t":"1"}}}"#)
            #expect(timedOut.status == 504)
            #expect(sandbox.user(appID: TestApps.a.id, externalID: "f3")?.tags == [:])

            sandbox.faults.inject(.dropConnection(afterHandling: true))
            await #expect(throws: (any Error).self) {
                _ = try await client.send(.PATCH, Paths.user("f3"), body: #"{"properties":{"tags":{"d":"1"}}}"#)
            }
            #expect(sandbox.user(appID: TestApps.a.id, externalID: "f3")?.tags == ["d": "1"])
        }
    }
}
