import Delivery
import Domain
import Foundation
@testable import HubSpot
import HubSpotSandbox
import Mapping
import SandboxKit
import Testing
import TestSupport

/// The client against today's published contract (docs/hubspot-contract.md): ids as strings or numbers, action
/// definitions with every required field, typed callback outputs, upserts attributed without echo or order, and every
/// request HubSignal makes listed in `HubSpotEndpoint.all`.
@Suite(.timeLimit(.minutes(3)))
struct HubSpotContractTests {
    // MARK: - Ids

    @Test func idsAreReadFromStringsOrNumbersUpToInt64() throws {
        let numeric = #"{"id":5434402448,"properties":{"email":"ada@example.com"},"new":true}"#
        let text = #"{"id":"5434402448","properties":{"email":"ada@example.com"}}"#
        #expect(try JSONDecoder().decode(HubSpotObject.self, from: Data(numeric.utf8)).id == "5434402448")
        #expect(try JSONDecoder().decode(HubSpotObject.self, from: Data(text.utf8)).id == "5434402448")
        let large = #"{"id":9223372036854775807,"properties":{}}"#
        #expect(try JSONDecoder().decode(HubSpotObject.self, from: Data(large.utf8)).id == "9223372036854775807")
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(HubSpotObject.self, from: Data(#"{"id":true}"#.utf8)) }

        let definition = #"{"id":201903771,"revisionId":4,"actionUrl":"https://x.example/a","published":true}"#
        let decoded = try JSONDecoder().decode(HubSpotActionDefinition.self, from: Data(definition.utf8))
        #expect(decoded.id == "201903771")
        #expect(decoded.revisionId == "4")
        let batch = #"{"status":"COMPLETE","results":[{"id":7,"properties":{}}],"errors":[],"numErrors":0}"#
        #expect(try JSONDecoder().decode(HubSpotBatchResult.self, from: Data(batch.utf8)).results.map(\.id) == ["7"])
    }

    // MARK: - Action definitions

    /// Every input and output carries `typeDefinition.options` (`[]` when none) and only the spec's value types; a
    /// definition reads back equal to the one sent.
    @Test func actionDefinitionsCarryEveryFieldTheSpecRequires() throws {
        let definitions = WorkflowActionDefinitions(publicURL: "https://hubsignal.example.com", appNames: ["main", "eu"])
        for (action, definition) in definitions.all {
            let object = try #require(try JSONSerialization.jsonObject(with: try JSONEncoder().encode(definition.egg)) as? [String: Any])
            for key in ["actionUrl", "published", "objectTypes", "inputFields", "labels", "functions"] {
                #expect(object[key] != nil, "\(action) \(key)")
            }
            let inputs = try #require(object["inputFields"] as? [[String: Any]])
            let outputs = try #require(object["outputFields"] as? [[String: Any]])
            for field in inputs + outputs {
                let type = try #require(field["typeDefinition"] as? [String: Any])
                #expect(type["options"] is [Any], "\(action) \(type["name"] ?? "?")")
                #expect(HubSpotActionDefinition.TypeDefinition.types.contains(type["type"] as? String ?? ""))
                if let fieldType = type["fieldType"] as? String {
                    #expect(HubSpotActionDefinition.TypeDefinition.fieldTypes.contains(fieldType))
                }
            }
            for input in inputs {
                #expect(input["isRequired"] is Bool)
                let valueTypes = try #require(input["supportedValueTypes"] as? [String])
                #expect(Set(valueTypes).isSubset(of: HubSpotActionDefinition.ValueType.all.map(\.rawValue)))
            }
            let labels = try #require(object["labels"] as? [String: [String: Any]])
            #expect(labels["en"]?["actionName"] is String)
            let decoded = try JSONDecoder().decode(HubSpotActionDefinition.self, from: try JSONEncoder().encode(definition))
            #expect(decoded == definition)
        }
    }

    /// HubSignal's two definitions pass the strict sandbox's schema check, and the client reads every page of a list
    /// longer than one page (the sandbox pages at most 100).
    @Test func theDefinitionsPassTheSchemaCheckAndEveryPageIsRead() async throws {
        let sandbox = HubSpotSandbox(configuration: .init(accessToken: "pat-na1-x", rateLimit: 1_000, developerAPIKey: "dev-key"))
        try await sandbox.start()
        let client = HubSpotClient(
            configuration: .init(baseURL: sandbox.baseURL, accessToken: "pat-na1-x"), rateLimiter: HubSpotRateLimiter(limit: 1_000),
            logger: TestPostgres.logger)
        do {
            let definitions = WorkflowActionDefinitions(publicURL: "https://hubsignal.example.com", appNames: ["main"])
            let installed = try await client.installActionDefinitions(definitions.all.map(\.definition), appID: "42", developerAPIKey: "dev-key")
            #expect(installed.map(\.change) == [.created, .created])
            let base = definitions.definition(for: .editTags)
            for index in 0..<100 {
                var other = base
                other.actionUrl = "https://hubsignal.example.com/hubspot/actions/other-\(index)"
                _ = try await client.createActionDefinition(appID: "42", developerAPIKey: "dev-key", definition: other)
            }
            sandbox.requests.clear()
            let listed = try await client.actionDefinitions(appID: "42", developerAPIKey: "dev-key")
            #expect(listed.count == 102)
            #expect(Set(listed.compactMap(\.id)).count == 102)
            #expect(sandbox.requests.matching(method: "GET", path: "/automation/v4/actions/42").count == 2)
            // Installing again finds both (the first page) and updates them.
            let again = try await client.installActionDefinitions(definitions.all.map(\.definition), appID: "42", developerAPIKey: "dev-key")
            #expect(again.map(\.change) == [.updated, .updated])
        } catch {
            await sandbox.stop()
            throw error
        }
        await sandbox.stop()
    }

    // MARK: - Callbacks

    /// Completions carry `typedOutputs` (the strict sandbox refuses them without), each value typed as the output is
    /// declared: `recipients` a number, the rest strings.
    @Test func callbackCompletionsSendTypedOutputs() async throws {
        try await SyncHarness.run { sync in
            let client = sync.hubSpotClient()
            try await client.completeWorkflowAction(
                callbackID: "ap-1-2-3-0", outputFields: ["hs_execution_state": "SUCCESS", "notification_id": "n-1", "recipients": "3"])
            try await client.completeWorkflowActions([
                (callbackID: "ap-9", outputFields: ["hs_execution_state": "FAIL_CONTINUE", "error_message": "no"])
            ])
            #expect(sync.sandbox.callbackCompletions().map(\.callbackID) == ["ap-1-2-3-0", "ap-9"])

            let single = try #require(
                sync.sandbox.requests.matching(method: "POST", path: "/automation/v4/actions/callbacks/ap-1-2-3-0/complete").first)
            let body = try #require(try JSONSerialization.jsonObject(with: single.body) as? [String: Any])
            let typed = try #require(body["typedOutputs"] as? [String: Any])
            #expect(typed["recipients"] as? Int == 3)
            #expect(typed["notification_id"] as? String == "n-1")
            #expect(typed["hs_execution_state"] as? String == "SUCCESS")
            #expect((body["outputFields"] as? [String: String])?["recipients"] == "3")

            let batch = try #require(sync.sandbox.requests.matching(method: "POST", path: "/automation/v4/actions/callbacks/complete").first)
            let inputs = try #require((try JSONSerialization.jsonObject(with: batch.body) as? [String: Any])?["inputs"] as? [[String: Any]])
            #expect((inputs.first?["typedOutputs"] as? [String: String]) == ["hs_execution_state": "FAIL_CONTINUE", "error_message": "no"])
        }
        #expect(WorkflowActionDefinitions.outputTypes == ["notification_id": "string", "recipients": "number", "error_message": "string"])
    }

    // MARK: - Objects

    /// A record is created with `associations: []` (required by `SimplePublicObjectInputForCreate`), and association
    /// labels are read on the current spec's path.
    @Test func createSendsAnEmptyAssociationListAndLabelsUseTheCurrentPath() async throws {
        try await SyncHarness.run { sync in
            CustomObjectSyncTests.defineOrders(sync)
            let client = sync.hubSpotClient()
            let order = try await client.createObject(ofType: "p_orders", properties: ["order_id": "o-1", "status": ""])
            let created = try #require(sync.sandbox.requests.matching(method: "POST", path: "/crm/v3/objects/p_orders").first)
            let body = try #require(try JSONSerialization.jsonObject(with: created.body) as? [String: Any])
            #expect((body["associations"] as? [Any])?.isEmpty == true)
            #expect(body["properties"] as? [String: String] == ["order_id": "o-1"])
            #expect(sync.sandbox.object(ofType: "p_orders", id: order.id)?["order_id"] == "o-1")

            let types = try await client.associationTypes(from: "p_orders", to: "contacts")
            #expect(!types.isEmpty)
            #expect(sync.sandbox.requests.matching(method: "GET", path: "/crm/associations/v4/p_orders/contacts/labels").count == 1)
        }
    }

    /// The sandbox answers upserts last input first, without `objectWriteTraceId` and with only the properties written:
    /// each contact still gets its own HubSpot id, because the email is written in `properties` and comes back.
    @Test func upsertResultsAreAttributedWithoutTraceIDsAndWhateverTheirOrder() async throws {
        try await SyncHarness.run { sync in
            let emails = (1...6).map { "user\($0)@example.com" }
            for (index, email) in emails.enumerated() {
                try await sync.identify("u\(index)", #"{"email":"\#(email)","firstName":"N\#(index)"}"#)
            }
            try await sync.settle([sync.worker()])
            let upserts = sync.sandbox.requests.matching(method: "POST", path: "/crm/v3/objects/contacts/batch/upsert")
            #expect(upserts.count == 1)
            let upsert = try #require(upserts.first)
            let inputs = try #require((try JSONSerialization.jsonObject(with: upsert.body) as? [String: Any])?["inputs"] as? [[String: Any]])
            #expect(inputs.count == 6)
            for input in inputs {
                #expect((input["properties"] as? [String: String])?["email"] == input["id"] as? String)
            }
            let rows = try await sync.client.query(
                "SELECT c.email, c.hubspot_contact_id FROM contacts c ORDER BY c.email")
            #expect(rows.count == 6)
            for row in rows {
                let (email, hubSpotID) = try row.decode((String, String?).self)
                #expect(hubSpotID != nil)
                #expect(hubSpotID == sync.sandbox.contact(email: email)?.id, "\(email)")
            }
        }
    }

    /// An answer whose results cannot be attributed (no id property, no trace id) is not attributed by position: each
    /// input is sent again alone, and a one-input batch's single result is that input's.
    @Test func resultsThatNameNoInputAreSentAgainOneByOne() async throws {
        try await SyncHarness.run { sync in
            try await sync.identify("ada", #"{"email":"ada@example.com"}"#)
            try await sync.identify("bob", #"{"email":"bob@example.com"}"#)
            let answer = #"{"status":"COMPLETE","results":[{"id":"1","new":true,"properties":{}},{"id":"2","new":true,"properties":{}}]}"#
            sync.sandbox.faults.inject(
                .status(200, body: Data(answer.utf8), headers: [("Content-Type", "application/json")]), times: 1,
                pathPrefix: "/crm/v3/objects/contacts/batch/upsert")
            try await sync.settle([sync.worker()])
            #expect(sync.upsertCalls() == 3)
            for email in ["ada@example.com", "bob@example.com"] {
                let rows = try await sync.client.query("SELECT hubspot_contact_id FROM contacts WHERE email = \(email)")
                let hubSpotID = try rows.first?.decode(String?.self)
                #expect(hubSpotID != nil)
                #expect(hubSpotID == sync.sandbox.contact(email: email)?.id, "\(email)")
            }
        }
    }

    /// The date-versioned specs fold `errors` into the `200` answer (v3 answers `207`): a `200` naming one input in its
    /// errors makes that contact a dead letter and the other synced, exactly as a `207` does.
    @Test func errorsInA200AnswerAreReadLikeA207s() async throws {
        try await SyncHarness.run { sync in
            try await sync.identify("ada", #"{"email":"ada@example.com"}"#)
            try await sync.identify("bob", #"{"email":"bob@example.com"}"#)
            let answer = #"""
                {"status":"COMPLETE","results":[{"id":"9001","new":true,"properties":{"email":"ada@example.com"}}],
                 "errors":[{"status":"error","category":"VALIDATION_ERROR","message":"Email address bob@example.com is invalid",
                            "context":{"ids":["bob@example.com"]}}],"numErrors":1}
                """#
            sync.sandbox.faults.inject(
                .status(200, body: Data(answer.utf8), headers: [("Content-Type", "application/json")]), times: 1,
                pathPrefix: "/crm/v3/objects/contacts/batch/upsert")
            try await sync.settle([sync.worker()])
            let rows = try await sync.client.query(
                """
                SELECT c.user_id, c.hubspot_contact_id, s.state FROM sync_status s JOIN contacts c USING (contact_id)
                WHERE s.destination = 'hubspot' ORDER BY c.user_id
                """)
            let states = try rows.map { try $0.decode((String?, String?, String).self) }
            #expect(states.map(\.0) == ["ada", "bob"])
            #expect(states[0].1 == "9001")
            #expect(states[0].2 == "in_sync")
            #expect(states[1].1 == nil)
            #expect(states[1].2 == "failed")
            #expect(sync.sandbox.faults.injectedCount == 1)
        }
    }

    // MARK: - Every call is listed

    /// A representative round (contacts with created properties, companies and their associations, a custom object
    /// with a labelled association, a GDPR deletion, callback completions, action definitions) makes only calls that
    /// `HubSpotEndpoint.all` lists: a call missing from the list (and so from the app's scopes and the contract table)
    /// fails here.
    @Test func everyRequestOfASyncRoundIsAListedEndpoint() async throws {
        try await SyncHarness.run { sync in
            CustomObjectSyncTests.defineOrders(sync)
            _ = try await CustomObjectSyncTests.createBuyerLabel(sync)
            let mapping = try Mapping.parse(
                """
                contacts:
                  unknown_traits: create
                  properties:
                    seats: { property: seat_count, type: number }
                custom_objects:
                  - name: orders
                    trigger:
                      type: track
                      event: Order Completed
                    object_type: p_orders
                    properties:
                      properties.order_id: order_id
                      properties.total: { property: amount, type: number }
                    search_fields: [order_id]
                    create_if_missing: true
                    associate: { to: contacts, label: buyer }
                """)
            let worker = sync.worker(mapping: mapping)
            try await sync.settle([worker], mapping: mapping)
            sync.sandbox.requests.clear()

            try await sync.identify("u1", #"{"email":"ada@example.com","favorite_color":"teal","seats":3}"#)
            try await sync.group("u1", groupID: "acme", #"{"name":"Acme","website":"https://acme.example"}"#)
            try await sync.identify("u2", #"{"email":"bob@example.com"}"#)
            try await sync.settle([worker], mapping: mapping)
            try await sync.track("u1", "Order Completed", #"{"order_id":"o-1","total":10}"#)
            try await sync.settle([worker], mapping: mapping, timeout: .seconds(30))
            try await sync.track("u1", "Order Completed", #"{"order_id":"o-1","total":12}"#)
            try await sync.settle([worker], mapping: mapping, timeout: .seconds(30))

            let client = sync.hubSpotClient()
            try await client.completeWorkflowAction(callbackID: "ap-1", outputFields: ["hs_execution_state": "SUCCESS"])
            try await client.completeWorkflowActions([(callbackID: "ap-2", outputFields: ["hs_execution_state": "SUCCESS"])])
            try await client.gdprDeleteContact(email: "bob@example.com")
            try await client.gdprDeleteContact(email: "nobody@example.com")
            let contact = try #require(sync.sandbox.contact(email: "ada@example.com"))
            let company = try #require(sync.sandbox.companies().first)
            try await client.associateDefault("contacts", contact.id, to: "companies", company.id)

            #expect(sync.sandbox.objects(ofType: "p_orders").count == 1)
            #expect(sync.sandbox.companies().count == 1)
            var paths = Set(sync.sandbox.requests.all.map { "\($0.method) \($0.path)" })
            for request in sync.sandbox.requests.all {
                #expect(HubSpotEndpoint.endpoint(method: request.method, path: request.path) != nil, "\(request.method) \(request.path)")
            }

            // Action definitions (developer key) go to a sandbox that accepts one.
            let developer = HubSpotSandbox(configuration: .init(accessToken: "pat-na1-x", developerAPIKey: "dev-key"))
            try await developer.start()
            do {
                let definitionsClient = HubSpotClient(
                    configuration: .init(baseURL: developer.baseURL, accessToken: "pat-na1-x"),
                    rateLimiter: HubSpotRateLimiter(limit: 1_000), logger: TestPostgres.logger)
                let definitions = WorkflowActionDefinitions(publicURL: "https://hubsignal.example.com").all.map(\.definition)
                _ = try await definitionsClient.installActionDefinitions(definitions, appID: "42", developerAPIKey: "dev-key")
                _ = try await definitionsClient.installActionDefinitions(definitions, appID: "42", developerAPIKey: "dev-key")
                for request in developer.requests.all {
                    #expect(HubSpotEndpoint.endpoint(method: request.method, path: request.path) != nil, "\(request.method) \(request.path)")
                    paths.insert("\(request.method) \(request.path)")
                }
            } catch {
                await developer.stop()
                throw error
            }
            await developer.stop()

            // The round did reach each family of calls.
            let endpoints = Set(paths.compactMap { entry -> String? in
                let parts = entry.split(separator: " ", maxSplits: 1).map(String.init)
                return HubSpotEndpoint.endpoint(method: parts[0], path: parts[1])?.description
            })
            for expected: HubSpotEndpoint in [
                .upsertContacts, .upsertCompanies, .listContactProperties, .createContactProperty, .associateContactsWithCompanies,
                .searchCustomObjects, .createCustomObject, .updateCustomObject, .associationLabels, .associateLabelled,
                .associateDefault, .gdprDeleteContact, .completeCallback, .completeCallbacks, .listActionDefinitions,
                .createActionDefinition, .updateActionDefinition,
            ] {
                #expect(endpoints.contains(expected.description), "\(expected) was not called")
            }
        }
    }

    /// The matcher itself: a listed path with concrete ids matches, an unlisted one (the legacy labels path, the v1
    /// OAuth token) does not, and the most literal endpoint wins.
    @Test func endpointsMatchConcretePathsAndOnlyThose() {
        #expect(HubSpotEndpoint.endpoint(method: "PATCH", path: "/crm/v3/objects/p_orders/1001") == .updateCustomObject)
        #expect(HubSpotEndpoint.endpoint(method: "POST", path: "/crm/v3/objects/notes") == .createNote)
        #expect(HubSpotEndpoint.endpoint(method: "POST", path: "/crm/v3/objects/p_orders") == .createCustomObject)
        #expect(HubSpotEndpoint.endpoint(method: "GET", path: "/automation/v4/actions/42?limit=100&hapikey=k") == .listActionDefinitions)
        #expect(HubSpotEndpoint.endpoint(method: "GET", path: "/crm/v4/associations/contacts/companies/labels") == nil)
        #expect(HubSpotEndpoint.endpoint(method: "POST", path: "/oauth/v1/token") == nil)
        #expect(HubSpotEndpoint.endpoint(method: "DELETE", path: "/crm/v3/objects/contacts/1001") == nil)
    }
}

/// docs/hubspot-contract.md lists exactly the endpoints of `HubSpotEndpoint.all`, each with its scope.
@Suite struct HubSpotContractDocsTests {
    /// The rows of the "Endpoints" table: method, path and scope cell.
    static func rows() throws -> [(method: String, path: String, scope: String)] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("docs/hubspot-contract.md"), encoding: .utf8)
        let section = try #require(text.components(separatedBy: "## Endpoints").dropFirst().first?.components(separatedBy: "\n## ").first)
        return section.split(separator: "\n").compactMap { line in
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count > 4, cells[1].hasPrefix("`"), cells[2].hasPrefix("`") else { return nil }
            return (cells[1].trimmingCharacters(in: ["`"]), cells[2].trimmingCharacters(in: ["`"]), cells[3].trimmingCharacters(in: ["`"]))
        }
    }

    @Test func theTableListsExactlyTheEndpointsHubSignalCalls() throws {
        let rows = try Self.rows()
        let documented = rows.map { "\($0.method) \($0.path)" }
        #expect(documented.count == Set(documented).count, "a row is listed twice")
        let listed = Set(HubSpotEndpoint.all.map(\.description))
        #expect(Set(documented).subtracting(listed).sorted() == [], "rows for endpoints HubSignal does not call")
        #expect(listed.subtracting(documented).sorted() == [], "endpoints without a row in docs/hubspot-contract.md")
        for row in rows {
            guard let endpoint = HubSpotEndpoint.endpoint(method: row.method, path: row.path), endpoint.path == row.path else { continue }
            let scope = endpoint.scope?.rawValue ?? endpoint.authentication.rawValue
            #expect(row.scope == scope, "\(row.method) \(row.path)")
        }
    }
}
