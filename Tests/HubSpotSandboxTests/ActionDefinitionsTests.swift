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
                "/automation/v4/actions/callbacks/ap-1/complete?hapikey=\(Self.key)", #"{"outputFields":{"hs_execution_state":"SUCCESS"},"typedOutputs":{"hs_execution_state":"SUCCESS"}}"#)
            #expect(callback.status == 401)
            #expect(try await developer.get("/crm/v3/objects/contacts?hapikey=\(Self.key)").status == 401)
            #expect(
                try await bearer.post("/automation/v4/actions/callbacks/ap-1/complete", #"{"outputFields":{"hs_execution_state":"SUCCESS"},"typedOutputs":{"hs_execution_state":"SUCCESS"}}"#)
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

    /// A valid egg with every optional part: an input, an enumeration with options, an output.
    static var fullEgg: [String: Any] {
        [
        "actionUrl": "https://svc.example/hubspot/actions/send", "published": true, "objectTypes": ["CONTACT"],
        "inputFields": [
            [
                "typeDefinition": ["name": "message", "type": "string", "fieldType": "textarea", "options": [Any]()],
                "supportedValueTypes": ["STATIC_VALUE", "OBJECT_PROPERTY"], "isRequired": true,
            ],
            [
                "typeDefinition": [
                    "name": "app", "type": "enumeration", "fieldType": "select", "options": [["label": "Main", "value": "main"]],
                ],
                "supportedValueTypes": ["STATIC_VALUE"], "isRequired": false,
            ],
        ],
        "outputFields": [["typeDefinition": ["name": "recipients", "type": "number", "options": [Any]()]]],
        "labels": ["en": ["actionName": "Send"]], "functions": [Any](),
        ]
    }

    /// `fullEgg` changed by `change`, as JSON text.
    static func variant(_ change: (inout [String: Any]) -> Void) throws -> String {
        var egg = fullEgg
        change(&egg)
        return String(decoding: try JSONSerialization.data(withJSONObject: egg), as: UTF8.self)
    }

    /// The first input's `typeDefinition` changed by `change`.
    static func firstInput(_ egg: inout [String: Any], _ change: (inout [String: Any]) -> Void) {
        var inputs = egg["inputFields"] as! [[String: Any]]
        var input = inputs[0]
        change(&input)
        inputs[0] = input
        egg["inputFields"] = inputs
    }

    static func firstTypeDefinition(_ egg: inout [String: Any], _ change: (inout [String: Any]) -> Void) {
        firstInput(&egg) { input in
            var definition = input["typeDefinition"] as! [String: Any]
            change(&definition)
            input["typeDefinition"] = definition
        }
    }

    /// Each rule of the spec's `PublicActionDefinitionEgg` the sandbox enforces: a lenient sandbox creates every one of
    /// these definitions; HubSpot, and the strict sandbox, refuse each with 400 `VALIDATION_ERROR`.
    @Test func definitionsAreCheckedAgainstTheSpecSchema() async throws {
        let refused: [(String, String)] = [
            ("no published", try Self.variant { $0["published"] = nil }),
            ("no labels", try Self.variant { $0["labels"] = nil }),
            ("labels without actionName", try Self.variant { $0["labels"] = ["en": ["actionDescription": "Sends"]] }),
            ("no inputFields", try Self.variant { $0["inputFields"] = nil }),
            ("no functions", try Self.variant { $0["functions"] = nil }),
            ("input without options", try Self.variant { Self.firstTypeDefinition(&$0) { $0["options"] = nil } }),
            ("input without isRequired", try Self.variant { Self.firstInput(&$0) { $0["isRequired"] = nil } }),
            ("input without name", try Self.variant { Self.firstTypeDefinition(&$0) { $0["name"] = nil } }),
            ("type outside the enum", try Self.variant { Self.firstTypeDefinition(&$0) { $0["type"] = "text" } }),
            // currency_number is an output type only (FieldTypeDefinition), not an input's (PublicFieldTypeDefinition).
            ("input of an output-only type", try Self.variant { Self.firstTypeDefinition(&$0) { $0["type"] = "currency_number" } }),
            ("fieldType outside the enum", try Self.variant { Self.firstTypeDefinition(&$0) { $0["fieldType"] = "dropdown" } }),
            (
                "value type outside the enum",
                try Self.variant { Self.firstInput(&$0) { $0["supportedValueTypes"] = ["OUTPUT_FROM_PREVIOUS_ACTION"] } }
            ),
            ("option without value", try Self.variant { Self.firstTypeDefinition(&$0) { $0["options"] = [["label": "A"]] } }),
            ("output without options", try Self.variant { $0["outputFields"] = [["typeDefinition": ["name": "n", "type": "string"]]] }),
        ]
        try await withDeveloperSandbox { sandbox, developer in
            #expect(try await developer.post("/automation/v4/actions/42?hapikey=\(Self.key)", try Self.variant { _ in }).status == 201)
            let currencyOutput = try Self.variant {
                $0["outputFields"] = [["typeDefinition": ["name": "total", "type": "currency_number", "options": [Any]()]]]
            }
            #expect(try await developer.post("/automation/v4/actions/42?hapikey=\(Self.key)", currencyOutput).status == 201)
            for (rule, body) in refused {
                let response = try await developer.post("/automation/v4/actions/42?hapikey=\(Self.key)", body)
                #expect(response.status == 400, "\(rule)")
                #expect(response.json.string("category") == "VALIDATION_ERROR", "\(rule)")
            }
            #expect(sandbox.actionDefinitions().count == 2)
        }
    }

    /// The list is paged as the spec says (`limit`, `paging.next.after`): a lenient sandbox answering every definition
    /// at once fails here.
    @Test func definitionListsArePaged() async throws {
        try await withDeveloperSandbox { _, developer in
            for _ in 0..<3 {
                #expect(try await developer.post("/automation/v4/actions/42?hapikey=\(Self.key)", Self.egg).status == 201)
            }
            let first = try await developer.get("/automation/v4/actions/42?limit=2&hapikey=\(Self.key)")
            #expect(first.json.array("results").count == 2)
            let after = try #require(first.json.object("paging").object("next").string("after"))
            let second = try await developer.get("/automation/v4/actions/42?limit=2&after=\(after)&hapikey=\(Self.key)")
            #expect(second.json.array("results").count == 1)
            #expect(second.json["paging"] == nil)
            let ids = (first.json.array("results") + second.json.array("results")).compactMap { $0.string("id") }
            #expect(Set(ids).count == 3)
            // Without a limit, a page holds 10; limits outside 1...100 are refused.
            #expect(try await developer.get("/automation/v4/actions/42?hapikey=\(Self.key)").json.array("results").count == 3)
            for limit in [0, 101] {
                #expect(try await developer.get("/automation/v4/actions/42?limit=\(limit)&hapikey=\(Self.key)").status == 400)
            }
        }
    }

    /// A completion must carry `typedOutputs` next to `outputFields` (both required in ACT-v4 and ACT-2026-09); a
    /// lenient sandbox accepts `outputFields` alone.
    @Test func completionsWithoutTypedOutputsAreRefused() async throws {
        try await withSandbox { sandbox, client in
            let single = try await client.post(
                "/automation/v4/actions/callbacks/ap-1/complete", #"{"outputFields":{"hs_execution_state":"SUCCESS"}}"#)
            #expect(single.status == 400)
            #expect(single.json.string("category") == "VALIDATION_ERROR")
            #expect(single.json.string("message")?.contains("[typedOutputs]") == true)
            let batch = try await client.post(
                "/automation/v4/actions/callbacks/complete", #"{"inputs":[{"callbackId":"ap-2","outputFields":{"hs_execution_state":"SUCCESS"}}]}"#)
            #expect(batch.status == 400)
            #expect(batch.json.string("category") == "VALIDATION_ERROR")
            let typedNotAnObject = try await client.post(
                "/automation/v4/actions/callbacks/ap-1/complete", #"{"outputFields":{"hs_execution_state":"SUCCESS"},"typedOutputs":"SUCCESS"}"#)
            #expect(typedNotAnObject.status == 400)
            #expect(sandbox.callbackCompletions().isEmpty)
        }
    }
}
