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
/// Every input is optional to HubSpot except `tags`; HubSignal checks the rest when an action runs (`WorkflowNotification`
/// in Ingestion: a push needs a `template_id` or a `content`, an email a `template_id` or an `email_subject` and an
/// `email_body`, an SMS a `template_id` or an `sms_body`). The email inputs show only when `channel` is `email`, the SMS
/// input only when it is `sms`. Send-notification asks HubSpot for the contact properties ``contactProperties``
/// (`objectRequestOptions`), the values its texts' `{{ contact.<property> }}` placeholders read. With app names, both
/// actions get an `app` select whose options are the names; without, there is no `app` input (a single app).
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
    /// The contact properties HubSpot sends with each send-notification request, for personalization: the
    /// ``commonContactProperties`` and the extra ones given, once each. A placeholder naming another property renders
    /// as missing (its fallback, or nothing).
    public var contactProperties: [String]

    /// The properties every send-notification request asks for: name, contact and address fields HubSpot defines in
    /// every account.
    public static let commonContactProperties = [
        "email", "firstname", "lastname", "phone", "mobilephone", "company", "jobtitle", "city", "state", "country", "zip",
        "website", "lifecyclestage", "hs_language",
    ]

    /// The definitions for a base URL (a trailing slash is dropped), the OneSignal app names and the contact properties
    /// to request besides the common ones (duplicates and empty names dropped).
    public init(publicURL: String, appNames: [String] = [], contactProperties: [String] = []) {
        var url = publicURL
        while url.hasSuffix("/") { url.removeLast() }
        self.publicURL = url
        var seen: Set<String> = []
        self.appNames = appNames.filter { !$0.isEmpty && seen.insert($0).inserted }
        var requested: Set<String> = []
        self.contactProperties = (Self.commonContactProperties + contactProperties).filter { !$0.isEmpty && requested.insert($0).inserted }
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
        let channels = WorkflowActionDefinitions.channels.enumerated().map {
            HubSpotActionDefinition.Option(label: $1.label, value: $1.value, displayOrder: $0)
        }
        var inputs: [HubSpotActionDefinition.InputField] = [
            .init(.init(name: "channel", type: "enumeration", fieldType: "select", options: channels)),
            templateInput, Self.text("heading"), Self.text("subtitle"), Self.text("content", fieldType: "textarea"),
            Self.text("url"), Self.text("image_url"), Self.text("email_subject"), Self.text("email_body", fieldType: "textarea"),
            Self.text("email_from_name"), Self.text("sms_body", fieldType: "textarea"),
        ]
        inputs += recipientInputs
        var labels = [
            "channel": "Channel", "template_id": "OneSignal template ID", "heading": "Title", "subtitle": "Subtitle",
            "content": "Message", "url": "Launch URL", "image_url": "Image URL", "email_subject": "Email subject",
            "email_body": "Email body (HTML)", "email_from_name": "Email sender name", "sms_body": "SMS text",
        ]
        labels.merge(recipientLabels) { $1 }
        let personalized = #" Personalize with {{ contact.firstname }} or {{ contact.firstname | default: "there" }}."#
        var descriptions = [
            "channel": "Push (the default), email or SMS: the contact's OneSignal user must have a subscription of that channel.",
            "template_id": "A OneSignal template's ID; its content is sent instead of the texts below.",
            "heading": "The push title." + personalized,
            "subtitle": "The push subtitle (iOS)." + personalized,
            "content": "The push message; required for a push without a template." + personalized,
            "url": "The page the push opens (optional)." + personalized,
            "image_url": "An image shown with the push (optional): an http(s) URL.",
            "email_subject": "Required for an email without a template." + personalized,
            "email_body": "Required for an email without a template." + personalized,
            "email_from_name": "The sender's name (optional; default: the app's).",
            "sms_body": "The SMS text; without it, the message is sent." + personalized,
        ]
        descriptions.merge(recipientDescriptions) { $1 }
        return HubSpotActionDefinition(
            actionUrl: actionURL(for: .sendNotification), objectTypes: ["CONTACT"], inputFields: inputs,
            outputFields: [Self.output("notification_id", "string"), Self.output("recipients", "number"), Self.output("error_message", "string")],
            labels: [
                "en": .init(
                    actionName: "Send OneSignal notification",
                    actionDescription: "Sends a push notification, an email or an SMS through OneSignal to the enrolled contact (a template, or a message personalized with the contact's properties).",
                    inputFieldLabels: labels, inputFieldDescriptions: descriptions,
                    outputFieldLabels: [
                        "notification_id": "OneSignal notification ID", "recipients": "Recipients", "error_message": "Error message",
                    ])
            ],
            objectRequestOptions: .init(properties: contactProperties),
            inputFieldDependencies: [
                .conditional("channel", is: "email", shows: ["email_subject", "email_body", "email_from_name"]),
                .conditional("channel", is: "sms", shows: ["sms_body"]),
            ] + (appNames.isEmpty ? [] : [.init(dependencyType: "SINGLE_FIELD", controllingFieldName: "app", dependentFieldNames: ["template_id"])]))
    }

    /// The path of the `template_id` options (HubSignal's `HubSpotActionOptionsController`).
    public static let templateOptionsPath = "/hubspot/actions/options/template"

    /// `template_id`: a select whose options HubSpot's editor fetches from ``templateOptionsPath`` (the chosen app's
    /// OneSignal templates); with app names, it depends on `app`, so the editor sends the chosen app with the request.
    private var templateInput: HubSpotActionDefinition.InputField {
        .init(.init(name: "template_id", type: "enumeration", fieldType: "select", optionsUrl: publicURL + Self.templateOptionsPath))
    }

    /// The `channel` input's options: OneSignal's `target_channel` values.
    static let channels: [(label: String, value: String)] = [("Push", "push"), ("Email", "email"), ("SMS", "sms")]

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
