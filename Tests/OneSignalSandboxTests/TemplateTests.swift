import Foundation
import OneSignalSandbox
import SandboxKit
import Testing

@Suite("Templates API: GET /templates, paged, per app, refusing what OneSignal refuses")
struct TemplateTests {
    static func list(_ query: String) -> String { "/templates?" + query }

    @Test("the list pages by limit and offset with total_count, oldest first, summaries only; channel filters")
    func paging() async throws {
        try await withSandbox { sandbox, client in
            for index in 0..<5 {
                try sandbox.seedTemplate(appID: TestApps.a.id, name: "Push \(index)")
            }
            let email = try sandbox.seedTemplate(appID: TestApps.a.id, name: "Welcome email", channel: "email")
            try sandbox.seedTemplate(appID: TestApps.b.id, name: "B only")

            let first = try await client.send(.GET, Self.list("app_id=\(TestApps.a.id)&limit=2&offset=0"))
            #expect(first.status == 200)
            #expect(first.json["total_count"] == .int(6))
            #expect(first.json["limit"] == .int(2))
            let names = first.json["templates"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
            #expect(names == ["Push 0", "Push 1"])
            let summary = try #require(first.json["templates"]?.arrayValue?.first?.objectValue)
            #expect(Set(summary.keys) == ["id", "name", "channel", "created_at", "updated_at"])

            let last = try await client.send(.GET, Self.list("app_id=\(TestApps.a.id)&limit=2&offset=4"))
            #expect(last.json["templates"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["Push 4", "Welcome email"])
            let past = try await client.send(.GET, Self.list("app_id=\(TestApps.a.id)&offset=10"))
            #expect(past.json["templates"]?.arrayValue?.isEmpty == true)
            #expect(past.json["limit"] == .int(50))

            let emails = try await client.send(.GET, Self.list("app_id=\(TestApps.a.id)&channel=email"))
            #expect(emails.json["templates"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == [email.id])
            #expect(emails.json["total_count"] == .int(1))

            let other = try await client.send(.GET, Self.list("app_id=\(TestApps.b.id)"), authorization: "Key \(TestApps.b.apiKey)")
            #expect(other.json["templates"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["B only"])

            let one = try await client.send(.GET, "/templates/\(email.id)?app_id=\(TestApps.a.id)")
            #expect(one.json["name"] == .string("Welcome email"))
            let missing = try await client.send(.GET, "/templates/\(UUID().uuidString.lowercased())?app_id=\(TestApps.a.id)")
            #expect(missing.status == 404)
        }
    }

    @Test("refused: no or a wrong key, another app's key (403); no or an unknown app_id, bad limit, offset or channel (400)")
    func refusals() async throws {
        try await withSandbox { sandbox, client in
            try sandbox.seedTemplate(appID: TestApps.a.id, name: "Push")
            let app = "app_id=\(TestApps.a.id)"
            #expect(try await client.send(.GET, Self.list(app), authorization: nil).status == 403)
            #expect(try await client.send(.GET, Self.list(app), authorization: "Key os_v2_app_wrong").status == 403)
            #expect(try await client.send(.GET, Self.list(app), authorization: "Key \(TestApps.b.apiKey)").status == 403)
            #expect(try await client.send(.GET, Self.list("limit=5")).status == 400)
            #expect(try await client.send(.GET, Self.list("app_id=\(UUID().uuidString.lowercased())")).status == 400)
            for query in ["limit=51", "limit=0", "limit=ten", "offset=-1", "offset=x", "channel=fax"] {
                let refused = try await client.send(.GET, Self.list(app + "&" + query))
                #expect(refused.status == 400, "\(query)")
                #expect(refused.json["errors"]?.arrayValue?.first?.stringValue != nil, "\(query): the basic error envelope")
            }
            #expect(try await client.send(.GET, Self.list(app + "&limit=50&offset=0&channel=push")).status == 200)
        }
    }

    @Test("a view: one request per second per app, the next one answered 429 until the second has passed")
    func viewRateLimit() async throws {
        let clock = SandboxClock.manual()
        try await withSandbox(TestApps.configuration(rateLimits: .init(clock: clock))) { sandbox, client in
            let app = "app_id=\(TestApps.a.id)"
            #expect(try await client.send(.GET, Self.list(app)).status == 200)
            let limited = try await client.send(.GET, Self.list(app))
            #expect(limited.status == 429)
            #expect(limited.headers.first(name: "Retry-After") != nil)
            clock.advance(by: .seconds(1))
            #expect(try await client.send(.GET, Self.list(app)).status == 200)
        }
    }

    @Test("seeding refuses an unknown app, a channel OneSignal does not have, and a taken id")
    func seeding() throws {
        let sandbox = OneSignalSandbox(configuration: TestApps.configuration())
        #expect(throws: OneSignalSandboxError.self) { try sandbox.seedTemplate(appID: UUID().uuidString, name: "x") }
        #expect(throws: OneSignalSandboxError.self) { try sandbox.seedTemplate(appID: TestApps.a.id, name: "x", channel: "fax") }
        let template = try sandbox.seedTemplate(appID: TestApps.a.id, name: "x")
        #expect(throws: OneSignalSandboxError.self) { try sandbox.seedTemplate(appID: TestApps.a.id, name: "y", id: template.id) }
        #expect(sandbox.templates(appID: TestApps.a.id).map(\.name) == ["x"])
    }
}
