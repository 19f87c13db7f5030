import Foundation
import HubSpotSandbox
import NIOHTTP1
import Testing

@Suite("HubSpot sandbox: workflow action definitions")
struct ActionDefinitionsTests {
    static let key = "dev-key-123"
    static let egg =
        #"{"actionUrl":"https://svc.example/hubspot/actions/send","published":true,"objectTypes":["CONTACT"],"inputFields":[],"labels":{"en":{"actionName":"Send"}},"functions":[]}"#

    /// A sandbox with a developer API key, and a client that sends no token.
    private func withDeveloperSandbox(_ body: (HubSpotSandbox, TestClient) async throws -> Void) async throws {
        try await withSandbox(.init(accessToken: testToken, developerAPIKey: Self.key)) { sandbox, _ in
            try await body(sandbox, TestClient(baseURL: sandbox.baseURL, token: nil))
        }
    }

    @Test func definitionsTakeTheDeveloperKeyOnlyAndTheRestTheTokenOnly() async throws {
        try await withDeveloperSandbox { sandbox, developer in
            #expect(try await developer.post("/automation/v4/actions/42?hapikey=\(Self.key)", Self.egg).status == 201)
            // The token is refused on definitions, a wrong key too.
            let bearer = TestClient(baseURL: sandbox.baseURL)
            let withToken = try await bearer.get("/automation/v4/actions/42")
            #expect(withToken.status == 401)
            #expect(withToken.json.string("category") == "INVALID_AUTHENTICATION")
            #expect(try await developer.get("/automation/v4/actions/42?hapikey=wrong").status == 401)
            #expect(try await developer.get("/automation/v4/actions/42").status == 401)
            // The developer key is refused on account-level endpoints (callbacks, CRM).
            let callback = try await developer.post(
                "/automation/v4/actions/callbacks/ap-1/complete?hapikey=\(Self.key)", #"{"outputFields":{"hs_execution_state":"SUCCESS"}}"#)
            #expect(callback.status == 401)
            #expect(try await developer.get("/crm/v3/objects/contacts?hapikey=\(Self.key)").status == 401)
            #expect(
                try await bearer.post("/automation/v4/actions/callbacks/ap-1/complete", #"{"outputFields":{"hs_execution_state":"SUCCESS"}}"#)
                    .status == 204)
        }
    }

    @Test func patchUpdatesADefinitionAndBumpsItsRevision() async throws {
        try await withDeveloperSandbox { sandbox, developer in
            let created = try await developer.post("/automation/v4/actions/42?hapikey=\(Self.key)", Self.egg)
            let id = try #require(created.json.string("id"))
            let patched = try await developer.send(
                .PATCH, "/automation/v4/actions/42/\(id)?hapikey=\(Self.key)",
                body: #"{"actionUrl":"https://svc.example/hubspot/actions/send-v2","published":false}"#)
            #expect(patched.status == 200)
            #expect(patched.json.string("id") == id)
            #expect(patched.json.string("revisionId") == "2")
            #expect(patched.json.string("actionUrl") == "https://svc.example/hubspot/actions/send-v2")
            #expect(patched.json["published"] as? Bool == false)
            // Fields the patch leaves out are kept.
            #expect(patched.json["objectTypes"] as? [String] == ["CONTACT"])
            #expect(patched.json.object("labels").object("en").string("actionName") == "Send")

            let fetched = try await developer.get("/automation/v4/actions/42/\(id)?hapikey=\(Self.key)")
            #expect(fetched.status == 200)
            #expect(fetched.json.string("revisionId") == "2")
            let list = try await developer.get("/automation/v4/actions/42?hapikey=\(Self.key)")
            #expect(list.json.array("results").map { $0.string("actionUrl") } == ["https://svc.example/hubspot/actions/send-v2"])
            #expect(sandbox.actionDefinitions().map(\.revisionID) == ["2"])
            #expect(sandbox.actionDefinitions().map(\.actionURL) == ["https://svc.example/hubspot/actions/send-v2"])
        }
    }

    @Test func patchValidatesLikeCreateAndAnUnknownDefinitionIs404() async throws {
        try await withDeveloperSandbox { sandbox, developer in
            let created = try await developer.post("/automation/v4/actions/42?hapikey=\(Self.key)", Self.egg)
            let id = try #require(created.json.string("id"))
            for body in [#"{"actionUrl":"not a url"}"#, #"{"objectTypes":[]}"#, #"{"inputFields":{}}"#, "[]"] {
                let refused = try await developer.send(.PATCH, "/automation/v4/actions/42/\(id)?hapikey=\(Self.key)", body: body)
                #expect(refused.status == 400, "\(body)")
                #expect(refused.json.string("category") == "VALIDATION_ERROR", "\(body)")
            }
            #expect(sandbox.actionDefinitions().map(\.revisionID) == ["1"])

            for path in ["/automation/v4/actions/42/999999", "/automation/v4/actions/43/\(id)"] {
                let missing = try await developer.send(.PATCH, path + "?hapikey=\(Self.key)", body: #"{"published":false}"#)
                #expect(missing.status == 404, "\(path)")
                #expect(missing.json.string("status") == "error")
                #expect(missing.json.string("category") == "OBJECT_NOT_FOUND")
                #expect(missing.json.string("correlationId") != nil)
                #expect(missing.json.string("message")?.isEmpty == false)
            }
            #expect(try await developer.get("/automation/v4/actions/42/999999?hapikey=\(Self.key)").status == 404)
        }
    }
}
