import Domain
import Foundation

/// The inputs of a "Send OneSignal notification" workflow action, checked: the channel, a template or the channel's
/// texts (each a ``MessageTemplate`` personalized with the contact's properties), the launch URL and the image.
///
/// ```swift
/// let notification = try WorkflowNotification(inputs: body["inputFields"]!.objectValue!)   // invalid_action when wrong
/// let message = try notification.rendered(for: ["firstname": "Ada"])
/// ```
///
/// Which inputs each channel reads (the others are ignored: the workflow editor keeps a value typed before the channel
/// changed):
/// - `push` (the default): `template_id`, or `content` with the optional `heading`, `subtitle`, `url`, `image_url`;
/// - `email`: `template_id`, or `email_subject` and `email_body`; optional `email_from_name`;
/// - `sms`: `template_id`, or `sms_body` (`content` when `sms_body` is empty).
/// Every text may hold `{{ contact.<property> }}` placeholders. Rendered values are percent-encoded in `url` and
/// `image_url` and HTML-escaped in `email_body` (not when the text is that one placeholder alone); fallbacks are
/// written as they should appear.
public struct WorkflowNotification: Sendable, Hashable {
    /// Where the notification goes (the action's `channel` input, OneSignal's `target_channel`).
    public enum Channel: String, Sendable, Hashable, CaseIterable {
        case push, email, sms
    }

    /// The inputs HubSignal reads, in the order the workflow editor shows them (`email`, `external_id` and `app`,
    /// the recipient's, are read elsewhere).
    public static let inputNames = [
        "channel", "template_id", "heading", "subtitle", "content", "url", "image_url", "email_subject", "email_body",
        "email_from_name", "sms_body",
    ]

    /// The inputs whose text may hold placeholders.
    static let textInputs: Set<String> = [
        "heading", "subtitle", "content", "url", "image_url", "email_subject", "email_body", "email_from_name", "sms_body",
    ]

    public var channel: Channel
    /// A OneSignal template's id (a UUID); its content wins over the texts.
    public var templateID: String?
    /// The texts the channel reads, by input name, parsed.
    public var texts: [String: MessageTemplate]

    /// Checks `inputs` (the request's `inputFields`); throws `invalid_action` with the reason when the channel is
    /// unknown, a template id is no UUID, the channel's content is missing, a text is no valid template, or `url` /
    /// `image_url` is no absolute http(s) URL (checked with every placeholder standing for a plain value, and with
    /// every one missing: its fallback).
    public init(inputs: [String: JSONValue]) throws(IngestionError) {
        func text(_ name: String) throws(IngestionError) -> String? { try HubSpotWorkflowAction.text(name, in: inputs) }
        let channelName = try text("channel")?.lowercased() ?? Channel.push.rawValue
        guard let channel = Channel(rawValue: channelName) else {
            throw .badRequest("invalid_action", "\"channel\" must be push, email or sms, not \"\(channelName.prefix(64))\"")
        }
        self.channel = channel
        let templateID = try text("template_id")
        if let templateID, UUID(uuidString: templateID) == nil {
            throw .badRequest("invalid_action", "\"template_id\" must be a OneSignal template id (a UUID)")
        }
        self.templateID = templateID
        let read: [String]
        switch channel {
        case .push: read = ["heading", "subtitle", "content", "url", "image_url"]
        case .email: read = ["email_subject", "email_body", "email_from_name"]
        case .sms: read = ["sms_body", "content"]
        }
        var texts: [String: MessageTemplate] = [:]
        for name in read {
            guard let value = try text(name) else { continue }
            do {
                texts[name] = try MessageTemplate(parsing: value)
            } catch {
                throw .badRequest("invalid_action", "the input \"\(name)\" is not a valid message: \(error.message)")
            }
        }
        if channel == .sms, let body = texts["sms_body"] ?? texts["content"] {
            texts = ["sms_body": body]
        }
        self.texts = texts
        if templateID == nil {
            switch channel {
            case .push where texts["content"] == nil:
                throw .badRequest(
                    "invalid_action", "a push notification needs a \"template_id\", or a \"content\" (with an optional \"heading\")")
            case .email where texts["email_subject"] == nil || texts["email_body"] == nil:
                throw .badRequest("invalid_action", "an email needs a \"template_id\", or an \"email_subject\" and an \"email_body\"")
            case .sms where texts["sms_body"] == nil:
                throw .badRequest("invalid_action", "an SMS needs a \"template_id\", or an \"sms_body\" (or a \"content\")")
            default: break
            }
        }
        for name in ["url", "image_url"] {
            guard let template = texts[name] else { continue }
            // With every property present (a plain value, or a whole URL when the text is one placeholder alone), then
            // with none (the fallbacks): each text that is not empty must be a URL.
            let value = template.parts.count == 1 ? "https://hubsignal.invalid/" : "x"
            let present = template.render(Dictionary(uniqueKeysWithValues: template.propertyNames.map { ($0, value) }))
            let absent = template.render([:])
            for text in [present, absent] where !text.isEmpty && Self.webURL(text) == nil {
                throw .badRequest("invalid_action", "\"\(name)\" must be an absolute http:// or https:// URL")
            }
        }
    }

    /// The notification's content for one contact, placeholders rendered from `properties` (HubSpot's
    /// `object.properties`, see ``MessageTemplate/properties(_:)``).
    public struct Rendered: Sendable, Hashable {
        public var channel: Channel
        public var templateID: String?
        public var heading: String?
        public var subtitle: String?
        /// The push message.
        public var content: String?
        public var url: String?
        public var imageURL: String?
        public var emailSubject: String?
        public var emailBody: String?
        public var emailFromName: String?
        /// The SMS text.
        public var smsBody: String?
    }

    /// The content for a contact with `properties`. Throws `invalid_action` when the rendered `url` or `image_url` is no
    /// absolute http(s) URL (a fallback that is not one, for a contact without the property).
    public func rendered(for properties: [String: String]) throws(IngestionError) -> Rendered {
        func render(_ name: String, escape: (String) -> String = { $0 }) -> String? {
            guard let template = texts[name] else { return nil }
            var escaped = properties
            // A text that is one placeholder and nothing else takes the value as it is (a whole URL from a property).
            if template.parts.count > 1 {
                for (key, value) in properties { escaped[key] = escape(value) }
            }
            let text = template.render(escaped)
            return text.isEmpty ? nil : text
        }
        var rendered = Rendered(channel: channel, templateID: templateID)
        rendered.heading = render("heading")
        rendered.subtitle = render("subtitle")
        rendered.content = render("content")
        rendered.emailSubject = render("email_subject")
        rendered.emailBody = render("email_body", escape: Self.escapeHTML)
        rendered.emailFromName = render("email_from_name")
        rendered.smsBody = render("sms_body")
        for name in ["url", "image_url"] {
            guard let url = render(name, escape: Self.percentEncoded) else { continue }
            guard Self.webURL(url) != nil else {
                throw .badRequest("invalid_action", "\"\(name)\" rendered for this contact is no absolute http(s) URL: \(url.prefix(200))")
            }
            if name == "url" { rendered.url = url } else { rendered.imageURL = url }
        }
        if templateID == nil {
            switch channel {
            case .push where rendered.content == nil, .sms where rendered.smsBody == nil:
                throw .badRequest("invalid_action", "the message rendered for this contact is empty (its placeholders have no value and no fallback)")
            case .email where rendered.emailSubject == nil || rendered.emailBody == nil:
                throw .badRequest("invalid_action", "the email subject or body rendered for this contact is empty (its placeholders have no value and no fallback)")
            default: break
            }
        }
        return rendered
    }

    /// `text` as an absolute http(s) URL with a host, or `nil`.
    static func webURL(_ text: String) -> URL? {
        guard let url = URL(string: text), url.scheme == "https" || url.scheme == "http", url.host?.isEmpty == false else {
            return nil
        }
        return url
    }

    /// A value made safe inside a URL: everything but unreserved characters percent-encoded.
    static func percentEncoded(_ value: String) -> String {
        let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        return value.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }

    /// A value made safe inside HTML: `&`, `<`, `>`, `"` and `'` as entities.
    static func escapeHTML(_ value: String) -> String {
        var escaped = ""
        for character in value {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
