import Foundation

/// The definitions of the two custom workflow actions HubSignal serves, for a public base URL and a list of OneSignal
/// apps: "Send OneSignal notification" (`POST /hubspot/actions/send-notification`) and "Edit OneSignal tags"
/// (`POST /hubspot/actions/edit-tags`).
///
/// ```swift
/// let definitions = WorkflowActionDefinitions(publicURL: "https://hubsignal.example.com", appNames: ["main"])
/// let send = definitions.definition(for: .sendNotification)   // HubSpotActionDefinition
/// ```
///
/// Every input is optional to HubSpot except `tags`; HubSignal checks the rest when an action runs (a notification needs
/// a `template_id`, or a `heading` and a `content`). With app names, both actions get an `app` select whose options are
/// the names; without, there is no `app` input (a single app).
public struct WorkflowActionDefinitions: Sendable, Hashable {
    /// One of the actions.
    public enum Action: String, Sendable, Hashable, CaseIterable {
        case sendNotification = "send-notification"
        case editTags = "edit-tags"

        /// The path HubSignal serves the action on.
        public var path: String { "/hubspot/actions/\(rawValue)" }
    }

    /// The external base URL HubSpot calls (`HUBSIGNAL_PUBLIC_URL`), without a trailing slash.
    public var publicURL: String
    /// The OneSignal apps a workflow can choose from, in this order.
    public var appNames: [String]

    /// The definitions for a base URL (a trailing slash is dropped) and the OneSignal app names (duplicates dropped).
    public init(publicURL: String, appNames: [String] = []) {
        var url = publicURL
        while url.hasSuffix("/") { url.removeLast() }
        self.publicURL = url
        var seen: Set<String> = []
        self.appNames = appNames.filter { !$0.isEmpty && seen.insert($0).inserted }
    }

    /// The URL HubSpot calls for `action`.
    public func actionURL(for action: Action) -> String {
        publicURL + action.path
    }

    /// Both definitions, send-notification first.
    public var all: [(action: Action, definition: HubSpotActionDefinition)] {
        Action.allCases.map { ($0, definition(for: $0)) }
    }

    /// The definition of one action.
    public func definition(for action: Action) -> HubSpotActionDefinition {
        switch action {
        case .sendNotification: return sendNotification
        case .editTags: return editTags
        }
    }

    // MARK: - The two actions

    private var sendNotification: HubSpotActionDefinition {
        var inputs: [HubSpotActionDefinition.InputField] = [
            Self.text("template_id"), Self.text("heading"), Self.text("content", fieldType: "textarea"), Self.text("url"),
        ]
        inputs += recipientInputs
        var labels = [
            "template_id": "OneSignal template ID", "heading": "Heading", "content": "Message", "url": "Launch URL",
        ]
        labels.merge(recipientLabels) { $1 }
        var descriptions = [
            "template_id": "A OneSignal template's ID. Without one, give a heading and a message.",
            "url": "The page the notification opens (optional).",
        ]
        descriptions.merge(recipientDescriptions) { $1 }
        return HubSpotActionDefinition(
            actionUrl: actionURL(for: .sendNotification), objectTypes: ["CONTACT"], inputFields: inputs,
            outputFields: [Self.output("notification_id", "string"), Self.output("recipients", "number"), Self.output("error_message", "string")],
            labels: [
                "en": .init(
                    actionName: "Send OneSignal notification",
                    actionDescription: "Sends a push notification through OneSignal to the enrolled contact (a template, or a heading and a message).",
                    inputFieldLabels: labels, inputFieldDescriptions: descriptions,
                    outputFieldLabels: [
                        "notification_id": "OneSignal notification ID", "recipients": "Recipients", "error_message": "Error message",
                    ])
            ])
    }

    private var editTags: HubSpotActionDefinition {
        var inputs = [Self.text("tags", fieldType: "textarea", isRequired: true)]
        inputs += recipientInputs
        var labels = ["tags": "Tags (JSON)"]
        labels.merge(recipientLabels) { $1 }
        var descriptions = [
            "tags": #"A JSON object of the tags to set, e.g. {"plan":"pro","trial":"false"}."#
        ]
        descriptions.merge(recipientDescriptions) { $1 }
        return HubSpotActionDefinition(
            actionUrl: actionURL(for: .editTags), objectTypes: ["CONTACT"], inputFields: inputs,
            outputFields: [Self.output("error_message", "string")],
            labels: [
                "en": .init(
                    actionName: "Edit OneSignal tags",
                    actionDescription: "Edits the OneSignal data tags of the enrolled contact's OneSignal user.",
                    inputFieldLabels: labels, inputFieldDescriptions: descriptions,
                    outputFieldLabels: ["error_message": "Error message"])
            ])
    }

    // MARK: - Shared inputs

    /// Who receives: `email` and `external_id` (either may be mapped from a contact property), then `app` when there are
    /// app names.
    private var recipientInputs: [HubSpotActionDefinition.InputField] {
        var inputs = [
            Self.text("email", valueTypes: [.staticValue, .objectProperty]),
            Self.text("external_id", valueTypes: [.staticValue, .objectProperty]),
        ]
        if !appNames.isEmpty {
            let options = appNames.enumerated().map { HubSpotActionDefinition.Option(label: $1, value: $1, displayOrder: $0) }
            inputs.append(.init(.init(name: "app", type: "enumeration", fieldType: "select", options: options)))
        }
        return inputs
    }

    private var recipientLabels: [String: String] {
        var labels = ["email": "Email", "external_id": "OneSignal external ID"]
        if !appNames.isEmpty { labels["app"] = "OneSignal app" }
        return labels
    }

    private var recipientDescriptions: [String: String] {
        var descriptions = [
            "email": "The recipient's email; can be mapped from a contact property.",
            "external_id": "The recipient's OneSignal external ID; can be mapped from a contact property.",
        ]
        if !appNames.isEmpty { descriptions["app"] = "The OneSignal app that sends." }
        return descriptions
    }

    private static func text(
        _ name: String, fieldType: String = "text", valueTypes: [HubSpotActionDefinition.ValueType] = [.staticValue],
        isRequired: Bool = false
    ) -> HubSpotActionDefinition.InputField {
        .init(.init(name: name, type: "string", fieldType: fieldType), supportedValueTypes: valueTypes, isRequired: isRequired)
    }

    private static func output(_ name: String, _ type: String) -> HubSpotActionDefinition.OutputField {
        .init(.init(name: name, type: type, fieldType: type == "number" ? "number" : "text"))
    }
}
