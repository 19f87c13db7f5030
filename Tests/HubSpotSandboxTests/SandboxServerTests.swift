import Foundation
import HubSpotSandbox
import Hummingbird
import SandboxKit
import Synchronization
import Testing

@Suite("SandboxKit server and request log")
struct SandboxServerTests {
    @Test func runServesUntilCancelled() async throws {
        let router = Router(context: SandboxRequestContext.self)
        router.get("ping") { _, _ in "pong" }
        let server = SandboxServer(router: router)
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let task = Task {
            try await server.run(gracefulShutdownSignals: []) { port in continuation.yield(port) }
        }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        #expect(port > 0)
        let response = try await TestClient(baseURL: "http://127.0.0.1:\(port)", token: nil).get("/ping")
        #expect(response.status == 200)
        #expect(response.text == "pong")
        task.cancel()
        _ = await task.result
        await #expect(throws: (any Error).self) {
            _ = try await TestClient(baseURL: "http://127.0.0.1:\(port)", token: nil).send(.GET, "/ping", timeout: .milliseconds(500))
        }
    }

    @Test func startPicksAFreePortAndStopReleasesIt() async throws {
        let sandbox = HubSpotSandbox(configuration: .init(accessToken: testToken))
        let port = try await sandbox.start()
        #expect(port > 0)
        #expect(sandbox.baseURL == "http://127.0.0.1:\(port)")
        await sandbox.stop()
        let again = HubSpotSandbox(configuration: .init(accessToken: testToken, port: port))
        #expect(try await again.start() == port)
        await again.stop()
    }

    @Test func requestLogRecordsWhatWasSent() async throws {
        try await withSandbox { sandbox, client in
            let response = try await client.post("/crm/v3/objects/contacts?archived=false", #"{"properties":{"email":"a@b.co"}}"#)
            #expect(response.status == 201)
            let request = try #require(sandbox.requests.matching(method: "post", path: "/crm/v3/objects/contacts").first)
            #expect(request.query == "archived=false")
            #expect(request.queryValue("archived") == "false")
            #expect(request.header("authorization") == "Bearer \(testToken)")
            #expect(request.header("Content-Type") == "application/json")
            #expect(request.bodyText == #"{"properties":{"email":"a@b.co"}}"#)
            #expect(request.status == 201)
            sandbox.requests.clear()
            #expect(sandbox.requests.count == 0)
        }
    }

    @Test func requestLogKeepsAtMostItsLimit() async throws {
        try await withSandbox(.init(accessToken: testToken, requestLogLimit: 2)) { sandbox, client in
            for index in 0..<3 {
                let response = try await client.get("/crm/v3/objects/contacts?limit=\(index + 1)")
                #expect(response.status == 200)
            }
            #expect(sandbox.requests.all.map(\.query) == ["limit=2", "limit=3"])
            #expect(sandbox.requests.all.map(\.sequence) == [1, 2])
        }
    }

    @Test func resetForgetsEverything() async throws {
        try await withSandbox { sandbox, client in
            try sandbox.defineProperty(HubSpotProperty(name: "visits", type: .number), on: "contacts")
            let created = try await client.post("/crm/v3/objects/contacts", #"{"properties":{"email":"a@b.co","visits":"3"}}"#)
            #expect(created.status == 201)
            sandbox.faults.inject(.status(500, body: nil, headers: []), pathPrefix: "/never")
            sandbox.reset()
            #expect(sandbox.contacts().isEmpty)
            #expect(!sandbox.properties(of: "contacts").contains { $0.name == "visits" })
            #expect(sandbox.requests.count == 0)
            #expect(sandbox.faults.pendingCount == 0)
            let again = try await client.post("/crm/v3/objects/contacts", #"{"properties":{"email":"a@b.co"}}"#)
            #expect(again.status == 201)
        }
    }
}
