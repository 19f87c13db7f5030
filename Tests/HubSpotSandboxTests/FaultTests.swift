import AsyncHTTPClient
import Foundation
import HubSpotSandbox
import SandboxKit
import Testing

@Suite("Sandbox faults")
struct FaultTests {
    private let upsert = upsertBody([("ada@example.com", ["firstname": "Ada"])])

    @Test func statusFaultAnswersInsteadOfHandling() async throws {
        try await withSandbox { sandbox, client in
            sandbox.faults.inject(
                .status(503, body: Data(#"{"status":"error","message":"down"}"#.utf8), headers: [("Retry-After", "2")]),
                pathPrefix: "/crm/v3/objects/contacts/batch")
            let faulted = try await client.post("/crm/v3/objects/contacts/batch/upsert", upsert)
            #expect(faulted.status == 503)
            #expect(faulted.header("Retry-After") == "2")
            #expect(faulted.json.string("message") == "down")
            #expect(sandbox.contacts().isEmpty)
            let next = try await client.post("/crm/v3/objects/contacts/batch/upsert", upsert)
            #expect(next.status == 200)
            #expect(sandbox.faults.pendingCount == 0)
            #expect(sandbox.requests.all.map(\.status) == [503, 200])
        }
    }

    @Test func statusFaultOnlyMatchesItsPrefix() async throws {
        try await withSandbox { sandbox, client in
            sandbox.faults.inject(.status(500, body: nil, headers: []), times: 2, pathPrefix: "/events")
            let response = try await client.get("/crm/v3/objects/contacts")
            #expect(response.status == 200)
            #expect(sandbox.faults.pendingCount == 2)
        }
    }

    @Test func latencyDelaysThenHandles() async throws {
        try await withSandbox { sandbox, client in
            sandbox.faults.inject(.latency(.milliseconds(400)))
            let clock = ContinuousClock()
            let start = clock.now
            let response = try await client.post("/crm/v3/objects/contacts/batch/upsert", upsert)
            #expect(clock.now - start >= .milliseconds(400))
            #expect(response.status == 200)
            #expect(sandbox.contact(email: "ada@example.com") != nil)
        }
    }

    @Test func timeoutOutlastsTheClientTimeout() async throws {
        try await withSandbox { sandbox, client in
            sandbox.faults.inject(.timeout(.seconds(3)))
            await #expect(throws: HTTPClientError.deadlineExceeded) {
                _ = try await client.send(.POST, "/crm/v3/objects/contacts/batch/upsert", body: upsert, timeout: .milliseconds(300))
            }
            #expect(sandbox.contact(email: "ada@example.com") == nil)
        }
    }

    @Test func dropConnectionWithoutApplying() async throws {
        try await withSandbox { sandbox, client in
            sandbox.faults.inject(.dropConnection(afterHandling: false))
            let error = await #expect(throws: HTTPClientError.self) {
                _ = try await client.post("/crm/v3/objects/contacts/batch/upsert", upsert)
            }
            #expect(error == .remoteConnectionClosed)
            #expect(sandbox.contact(email: "ada@example.com") == nil)
            #expect(sandbox.requests.all.first?.status == nil)
            let retried = try await client.post("/crm/v3/objects/contacts/batch/upsert", upsert)
            #expect(retried.status == 200)
        }
    }

    @Test func dropConnectionAfterApplying() async throws {
        try await withSandbox { sandbox, client in
            sandbox.faults.inject(.dropConnection(afterHandling: true), pathPrefix: "/crm/v3/objects/contacts/batch")
            _ = try await client.get("/crm/v3/objects/contacts")
            let error = await #expect(throws: HTTPClientError.self) {
                _ = try await client.post("/crm/v3/objects/contacts/batch/upsert", upsert)
            }
            #expect(error == .remoteConnectionClosed)
            #expect(sandbox.contact(email: "ada@example.com")?["firstname"] == "Ada")
        }
    }
}
