import Domain
import Foundation
import HubSpot
import HubSpotSandbox
import Logging
import SandboxKit
import Testing
import TestSupport

@Suite("Workflow action definitions")
struct WorkflowActionDefinitionsTests {
    static let publicURL = "https://hubsignal.example.com"

    private func inputs(_ definition: HubSpotActionDefinition) -> [String: HubSpotActionDefinition.InputField] {
        Dictionary(uniqueKeysWithValues: definition.inputFields.map { ($0.typeDefinition.name, $0) })
    }

    @Test func sendNotificationHasTheInputsAndOutputsHubSignalReads() {
        let definition = WorkflowActionDefinitions(publicURL: Self.publicURL + "/").definition(for: .sendNotification)
        #expect(definition.actionUrl == "https://hubsignal.example.com/hubspot/actions/send-notification")
        #expect(definition.published)
        #expect(definition.objectTypes == ["CONTACT"])
        #expect(definition.functions == [])
        #expect(
            definition.inputFields.map(\.typeDefinition.name) == [
                "channel", "template_id", "heading", "subtitle", "content", "url", "image_url", "email_subject", "email_body",
                "email_from_name", "sms_body", "email", "external_id",
            ])
        let fields = inputs(definition)
        #expect(fields.values.allSatisfy { !$0.isRequired })
        let texts = ["heading", "subtitle", "content", "url", "image_url", "email_subject", "email_body", "email_from_name", "sms_body"]
        #expect(texts.allSatisfy { fields[$0]?.typeDefinition.type == "string" && fields[$0]?.supportedValueTypes == [.staticValue] })
        #expect(fields["content"]?.typeDefinition.fieldType == "textarea")
        #expect(fields["email_body"]?.typeDefinition.fieldType == "textarea")
        #expect(fields["heading"]?.typeDefinition.fieldType == "text")
        #expect(fields["template_id"]?.supportedValueTypes == [.staticValue])
        // The channel: a select of OneSignal's target_channel values; the email and SMS inputs show only for theirs.
        #expect(fields["channel"]?.typeDefinition.type == "enumeration")
        #expect(fields["channel"]?.typeDefinition.options?.map(\.value) == ["push", "email", "sms"])
        #expect(
            definition.inputFieldDependencies == [
                .init(
                    dependencyType: "CONDITIONAL_SINGLE_FIELD", controllingFieldName: "channel", controllingFieldValue: "email",
                    dependentFieldNames: ["email_subject", "email_body", "email_from_name"]),
                .init(
                    dependencyType: "CONDITIONAL_SINGLE_FIELD", controllingFieldName: "channel", controllingFieldValue: "sms",
                    dependentFieldNames: ["sms_body"]),
            ])
        // HubSpot sends the common contact properties with each request, for the texts' placeholders.
        #expect(definition.objectRequestOptions?.properties == WorkflowActionDefinitions.commonContactProperties)
        #expect(definition.objectRequestOptions?.properties.starts(with: ["email", "firstname", "lastname"]) == true)
        #expect(fields["email"]?.supportedValueTypes.contains(.objectProperty) == true)
        #expect(fields["external_id"]?.supportedValueTypes.contains(.objectProperty) == true)
        #expect(
            definition.outputFields.map { [$0.typeDefinition.name, $0.typeDefinition.type] }
                == [["notification_id", "string"], ["recipients", "number"], ["error_message", "string"]])
        let labels = definition.labels["en"]
        #expect(labels?.actionName == "Send OneSignal notification")
        #expect(labels?.actionDescription?.isEmpty == false)
        #expect(Set((labels?.inputFieldLabels ?? [:]).keys) == Set(fields.keys))
        #expect(Set((labels?.outputFieldLabels ?? [:]).keys) == ["notification_id", "recipients", "error_message"])
    }

    @Test func extraContactPropertiesAreRequestedAfterTheCommonOnesOnce() {
        let definitions = WorkflowActionDefinitions(publicURL: Self.publicURL, contactProperties: ["plan", "firstname", "", "plan", "score"])
        #expect(definitions.contactProperties == WorkflowActionDefinitions.commonContactProperties + ["plan", "score"])
        #expect(definitions.definition(for: .sendNotification).objectRequestOptions?.properties == definitions.contactProperties)
        // Edit-tags renders nothing: it asks for no properties and has no dependent inputs.
        #expect(definitions.definition(for: .editTags).objectRequestOptions == nil)
        #expect(definitions.definition(for: .editTags).inputFieldDependencies == nil)
    }

    @Test func dependenciesNameInputsOfTheAction() throws {
        let definition = WorkflowActionDefinitions(publicURL: Self.publicURL, appNames: ["main", "eu"]).definition(for: .sendNotification)
        let names = Set(definition.inputFields.map(\.typeDefinition.name))
        let dependencies = try #require(definition.inputFieldDependencies)
        for dependency in dependencies {
            // The spec's two shapes: SINGLE_FIELD without a value, CONDITIONAL_SINGLE_FIELD with one.
            #expect(["SINGLE_FIELD", "CONDITIONAL_SINGLE_FIELD"].contains(dependency.dependencyType))
            #expect((dependency.dependencyType == "CONDITIONAL_SINGLE_FIELD") == (dependency.controllingFieldValue != nil))
            #expect(!dependency.dependentFieldNames.isEmpty)
            #expect(names.contains(dependency.controllingFieldName))
            #expect(dependency.dependentFieldNames.allSatisfy(names.contains))
            guard let value = dependency.controllingFieldValue else { continue }
            let options = definition.inputFields.first { $0.typeDefinition.name == dependency.controllingFieldName }?.typeDefinition.options
            #expect(options?.contains { $0.value == value } == true)
        }
        // The JSON HubSpot receives: the spec's member names.
        let text = String(decoding: try definition.prettyJSON(), as: UTF8.self)
        #expect(text.contains(#""objectRequestOptions" : {"#))
        #expect(text.contains(#""controllingFieldValue" : "email""#))
        #expect(text.contains(#""dependencyType" : "CONDITIONAL_SINGLE_FIELD""#))
    }

    @Test func editTagsRequiresTagsOnly() {
        let definition = WorkflowActionDefinitions(publicURL: Self.publicURL).definition(for: .editTags)
        #expect(definition.actionUrl == "https://hubsignal.example.com/hubspot/actions/edit-tags")
        #expect(definition.inputFields.map(\.typeDefinition.name) == ["tags", "email", "external_id"])
        let fields = inputs(definition)
        #expect(fields["tags"]?.isRequired == true)
        #expect(fields["tags"]?.typeDefinition.fieldType == "textarea")
        #expect(fields["email"]?.isRequired == false)
        #expect(definition.outputFields.map(\.typeDefinition.name) == ["error_message"])
        #expect(definition.labels["en"]?.actionName == "Edit OneSignal tags")
        #expect(Set((definition.labels["en"]?.inputFieldLabels ?? [:]).keys) == Set(fields.keys))
    }

    @Test func appNamesBecomeASelectOnBothActions() throws {
        let definitions = WorkflowActionDefinitions(publicURL: Self.publicURL, appNames: ["main", "beta", "main", ""])
        #expect(definitions.appNames == ["main", "beta"])
        for (_, definition) in definitions.all {
            let app = try #require(inputs(definition)["app"])
            #expect(app.typeDefinition.type == "enumeration")
            #expect(app.typeDefinition.fieldType == "select")
            #expect(app.typeDefinition.options?.map(\.value) == ["main", "beta"])
            #expect(app.typeDefinition.options?.map(\.label) == ["main", "beta"])
            #expect(!app.isRequired)
            #expect(definition.labels["en"]?.inputFieldLabels?["app"] != nil)
            #expect(definition.inputFields.last?.typeDefinition.name == "app")
        }
    }

    @Test func jsonIsPrettySortedAndDeterministic() throws {
        let definition = WorkflowActionDefinitions(publicURL: Self.publicURL, appNames: ["main"]).definition(for: .sendNotification)
        let text = String(decoding: try definition.prettyJSON(), as: UTF8.self)
        #expect(text == String(decoding: try definition.prettyJSON(), as: UTF8.self))
        #expect(text.hasPrefix("{\n"))
        #expect(text.contains("https://hubsignal.example.com/hubspot/actions/send-notification"))  // slashes unescaped
        #expect(!text.contains("\"id\""))
        #expect(!text.contains("revisionId"))
        // Top-level keys in sorted order.
        let keys = ["actionUrl", "functions", "inputFields", "labels", "objectTypes", "outputFields", "published"]
        let positions = keys.map { text.range(of: "\n  \"\($0)\"")?.lowerBound }
        #expect(positions.allSatisfy { $0 != nil })
        #expect(positions.compactMap { $0 } == positions.compactMap { $0 }.sorted())
        // It reads back as the same definition.
        #expect(try JSONDecoder().decode(HubSpotActionDefinition.self, from: Data(text.utf8)) == definition)
    }
}

@Suite("HubSpot client: workflow actions")
struct HubSpotAutomationClientTests {
    static let token = "pat-na1-automation-test"
    static let developerKey = "dev-key-5f0c9a1e-secret"
    static let appID = "1109808"

    /// Runs `body` with a started sandbox (with a developer key) and a client of it whose log lines are captured.
    private func withSandbox(
        batchSize: Int = 100, _ body: (HubSpotSandbox, HubSpotClient, CapturedLogs) async throws -> Void
    ) async throws {
        let sandbox = HubSpotSandbox(configuration: .init(accessToken: Self.token, developerAPIKey: Self.developerKey))
        try await sandbox.start()
        let logs = CapturedLogs()
        let logger = logs.logger(label: "workflow-action-tests")
        let client = HubSpotClient(
            configuration: .init(baseURL: sandbox.baseURL, accessToken: Self.token, timeout: .seconds(10), batchSize: batchSize),
            rateLimiter: HubSpotRateLimiter(limit: 1_000), logger: logger)
        do {
            try await body(sandbox, client, logs)
        } catch {
            await sandbox.stop()
            throw error
        }
        await sandbox.stop()
    }

    @Test func installCreatesBothActionsThenUpdatesThemWithoutDuplicates() async throws {
        try await withSandbox { sandbox, client, logs in
            let definitions = WorkflowActionDefinitions(publicURL: "http://127.0.0.1:8080", appNames: ["main"]).all.map(\.definition)
            let first = try await client.installActionDefinitions(definitions, appID: Self.appID, developerAPIKey: Self.developerKey)
            #expect(first.map(\.change) == [.created, .created])
            #expect(
                first.map(\.actionURL)
                    == ["http://127.0.0.1:8080/hubspot/actions/send-notification", "http://127.0.0.1:8080/hubspot/actions/edit-tags"])
            #expect(first.allSatisfy { $0.revisionId == "1" && $0.duplicateIDs.isEmpty })

            // What HubSpot stored is what the builder made.
            let stored = try await client.actionDefinitions(appID: Self.appID, developerAPIKey: Self.developerKey)
            #expect(stored.map(\.id) == first.map(\.id))
            #expect(stored.map { var copy = $0; copy.id = nil; copy.revisionId = nil; return copy } == definitions)

            // Again, with another app option: the same two definitions are updated.
            let changed = WorkflowActionDefinitions(publicURL: "http://127.0.0.1:8080", appNames: ["main", "beta"]).all.map(\.definition)
            let second = try await client.installActionDefinitions(changed, appID: Self.appID, developerAPIKey: Self.developerKey)
            #expect(second.map(\.change) == [.updated, .updated])
            #expect(second.map(\.id) == first.map(\.id))
            #expect(second.map(\.revisionId) == ["2", "2"])
            #expect(sandbox.actionDefinitions().count == 2)
            let options = try await client.actionDefinitions(appID: Self.appID, developerAPIKey: Self.developerKey)
                .map { $0.inputFields.first { $0.typeDefinition.name == "app" }?.typeDefinition.options?.map(\.value) }
            #expect(options == [["main", "beta"], ["main", "beta"]])

            // Another app's definitions are its own.
            let other = try await client.installActionDefinitions(definitions, appID: "2220000", developerAPIKey: Self.developerKey)
            #expect(other.map(\.change) == [.created, .created])
            #expect(sandbox.actionDefinitions().count == 4)

            // The key went in the query only, never in a log line.
            let definitionRequests = sandbox.requests.all.filter { $0.path.hasPrefix("/automation/v4/actions/") }
            #expect(!definitionRequests.isEmpty)
            #expect(definitionRequests.allSatisfy { $0.query.contains("hapikey=") && $0.header("Authorization") == nil })
            #expect(!logs.text.contains(Self.developerKey))
        }
    }

    @Test func aWrongDeveloperKeyIsUnauthorizedAndNeverShown() async throws {
        try await withSandbox { sandbox, client, logs in
            let wrongKey = "wrong-key-\(UUID().uuidString)"
            let definitions = WorkflowActionDefinitions(publicURL: "https://hubsignal.example.com").all.map(\.definition)
            let error = try await #require(throws: HubSpotError.self) {
                try await client.installActionDefinitions(definitions, appID: Self.appID, developerAPIKey: wrongKey)
            }
            #expect(error.code == .unauthorized)
            #expect(error.status == 401)
            #expect(error.category == "INVALID_AUTHENTICATION")
            for text in [error.description, error.debugDescription, error.message, error.reason, "\(error)", String(reflecting: error)] {
                #expect(!text.contains(wrongKey))
            }
            #expect(!logs.text.contains(wrongKey))
            #expect(sandbox.actionDefinitions().isEmpty)

            // The access token is no developer key either.
            let withToken = try await #require(throws: HubSpotError.self) {
                try await client.actionDefinitions(appID: Self.appID, developerAPIKey: Self.token)
            }
            #expect(withToken.code == .unauthorized)
        }
    }

    @Test func updatingAnUnknownDefinitionIsNotFound() async throws {
        try await withSandbox { _, client, _ in
            let definition = WorkflowActionDefinitions(publicURL: "https://hubsignal.example.com").definition(for: .editTags)
            let error = try await #require(throws: HubSpotError.self) {
                try await client.updateActionDefinition(
                    appID: Self.appID, definitionID: "424242", developerAPIKey: Self.developerKey, definition: definition)
            }
            #expect(error.code == .notFound)
            #expect(error.category == "OBJECT_NOT_FOUND")
            let created = try await client.createActionDefinition(appID: Self.appID, developerAPIKey: Self.developerKey, definition: definition)
            var changed = definition
            changed.published = false
            let updated = try await client.updateActionDefinition(
                appID: Self.appID, definitionID: try #require(created.id), developerAPIKey: Self.developerKey, definition: changed)
            #expect(updated.published == false)
            #expect(updated.revisionId == "2")
            #expect(updated.functions == [])
        }
    }

    @Test func completionsAreRecordedBySandbox() async throws {
        try await withSandbox(batchSize: 2) { sandbox, client, _ in
            try await client.completeWorkflowAction(
                callbackID: "ap-12345678-1589400750477-3-0",
                outputFields: ["hs_execution_state": "SUCCESS", "notification_id": "n-1", "recipients": "3"])
            try await client.completeWorkflowActions([
                ("ap-1", ["hs_execution_state": "FAIL_CONTINUE", "error_message": "no subscription"]),
                ("ap-2", ["hs_execution_state": "SUCCESS"]),
                ("ap-3", ["hs_execution_state": "SUCCESS", "error_message": ""]),
            ])
            let completions = sandbox.callbackCompletions()
            #expect(completions.map(\.callbackID) == ["ap-12345678-1589400750477-3-0", "ap-1", "ap-2", "ap-3"])
            #expect(completions.first?.outputFields == ["hs_execution_state": "SUCCESS", "notification_id": "n-1", "recipients": "3"])
            #expect(completions[1].outputFields["error_message"] == "no subscription")
            // Three completions in batches of two: two batch calls, with the token.
            let batches = sandbox.requests.all.filter { $0.path == "/automation/v4/actions/callbacks/complete" }
            #expect(batches.count == 2)
            #expect(batches.allSatisfy { $0.header("Authorization") == "Bearer \(Self.token)" && !$0.query.contains("hapikey") })

            // A refused completion is a validation error.
            let error = try await #require(throws: HubSpotError.self) {
                try await client.completeWorkflowAction(callbackID: "ap-9", outputFields: ["hs_execution_state": "MAYBE"])
            }
            #expect(error.code == .validation)
        }
    }
}
