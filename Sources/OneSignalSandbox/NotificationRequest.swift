import Domain
import Foundation

/// A create-notification body read for sending (§4): its one targeting mode, channel, idempotency key and content.
struct NotificationRequest: Sendable {
    /// Who the notification is for; exactly one per request (§4.1).
    enum Targeting: Sendable {
        /// `include_aliases`: label → alias ids.
        case aliases([String: [String]])
        /// `include_subscription_ids`.
        case subscriptionIDs([String])
        /// `included_segments` minus `excluded_segments` (segment names).
        case segments(included: [String], excluded: [String])
        /// `filters`.
        case filters([JSONValue])
        /// `email_to` (or the deprecated `include_email_tokens`).
        case emails([String])
        /// `include_phone_numbers`.
        case phoneNumbers([String])
        /// Push tokens: `include_ios_tokens`, `include_android_reg_ids`, ….
        case pushTokens([String])
    }

    /// The push-token targeting members of the spec.
    static let pushTokenMembers = [
        "include_ios_tokens", "include_wp_wns_uris", "include_amazon_reg_ids", "include_chrome_reg_ids",
        "include_chrome_web_reg_ids", "include_android_reg_ids",
    ]

    /// The body as received.
    let body: [String: JSONValue]
    /// The targeting mode.
    let targeting: Targeting
    /// `target_channel`, or the one the targeting implies (`nil`: decided by the subscriptions).
    let channel: String?
    /// `idempotency_key`, else the deprecated request `external_id` (§4.4).
    let idempotencyKey: String?

    /// Reads `body` (already checked against the schema). Throws `400` in the basic envelope for no targeting,
    /// several targeting modes, `include_aliases` without `target_channel`, too many entries, or a subscription id
    /// that is not a UUID.
    init(body: [String: JSONValue], maximumRecipients: Int) throws(OneSignalError) {
        self.body = body
        func strings(_ name: String) -> [String]? {
            guard case .array(let items)? = body[name] else { return nil }
            return items.compactMap(\.stringValue)
        }
        var modes: [(name: String, targeting: Targeting)] = []
        if let aliases = body["include_aliases"]?.objectValue {
            var labels: [String: [String]] = [:]
            for (label, ids) in aliases {
                if case .array(let items) = ids { labels[label] = items.compactMap(\.stringValue) }
            }
            modes.append(("include_aliases", .aliases(labels)))
        }
        if let ids = strings("include_subscription_ids") { modes.append(("include_subscription_ids", .subscriptionIDs(ids))) }
        if let included = strings("included_segments") {
            modes.append(("included_segments", .segments(included: included, excluded: strings("excluded_segments") ?? [])))
        }
        if case .array(let filters)? = body["filters"] { modes.append(("filters", .filters(filters))) }
        if let emails = strings("email_to") ?? strings("include_email_tokens") {
            modes.append((body["email_to"] != nil ? "email_to" : "include_email_tokens", .emails(emails)))
        }
        if let phones = strings("include_phone_numbers") { modes.append(("include_phone_numbers", .phoneNumbers(phones))) }
        for member in Self.pushTokenMembers {
            if let tokens = strings(member) { modes.append((member, .pushTokens(tokens))) }
        }
        guard let (name, targeting) = modes.first else {
            throw .invalidRequest(
                "You must include which players, segments, or tags you wish to send this notification to.", envelope: .basic)
        }
        if modes.count > 1 {
            throw .invalidRequest(
                "\(modes.map(\.name).joined(separator: " and ")) cannot be combined: use exactly one targeting mode per request",
                envelope: .basic)
        }
        let explicitChannel = body["target_channel"]?.stringValue
        switch targeting {
        case .aliases(let labels):
            guard explicitChannel != nil else {
                throw .invalidRequest("target_channel (push, email or sms) is required with include_aliases", envelope: .basic)
            }
            let count = labels.values.reduce(0) { $0 + $1.count }
            if count > maximumRecipients {
                throw .invalidRequest("include_aliases is limited to \(maximumRecipients) entries per REST API call", envelope: .basic)
            }
            self.channel = explicitChannel
        case .subscriptionIDs(let ids):
            if ids.count > maximumRecipients {
                throw .invalidRequest(
                    "include_subscription_ids is limited to \(maximumRecipients) entries per REST API call", envelope: .basic)
            }
            if let invalid = ids.first(where: { UUID(uuidString: $0) == nil }) {
                throw .invalidRequest(
                    "Incorrect subscription_id format in include_subscription_ids (not a valid UUID): \(invalid)", envelope: .basic)
            }
            self.channel = explicitChannel
        case .emails(let emails):
            if emails.count > maximumRecipients {
                throw .invalidRequest("\(name) is limited to \(maximumRecipients) entries per REST API call", envelope: .basic)
            }
            self.channel = "email"
        case .phoneNumbers(let phones):
            if phones.count > maximumRecipients {
                throw .invalidRequest("\(name) is limited to \(maximumRecipients) entries per REST API call", envelope: .basic)
            }
            self.channel = "sms"
        case .pushTokens(let tokens):
            if tokens.count > maximumRecipients {
                throw .invalidRequest("\(name) is limited to \(maximumRecipients) entries per REST API call", envelope: .basic)
            }
            self.channel = "push"
        case .filters(let filters):
            if let problem = SegmentFilter.problem(in: filters) { throw .invalidRequest(problem, envelope: .basic) }
            let namesEmail = filters.contains { $0["field"]?.stringValue == "email" }
            if namesEmail, let explicitChannel, explicitChannel != "push" {
                throw .invalidRequest(
                    "the email filter targets the push subscriptions of the user with that email: it is only for push notifications",
                    envelope: .basic)
            }
            self.channel = explicitChannel ?? "push"
        case .segments:
            self.channel = explicitChannel ?? "push"
        }
        if let channel, let explicitChannel, channel != explicitChannel {
            throw .invalidRequest(
                "Platforms You may only send to one delivery channel at a time. Make sure you are only including one of push platforms, Email, or SMS.",
                envelope: .basic)
        }
        self.targeting = targeting
        self.idempotencyKey = body["idempotency_key"]?.stringValue ?? body["external_id"]?.stringValue
        if let templateID = body["template_id"]?.stringValue, UUID(uuidString: templateID) == nil {
            throw .invalidRequest("template_id must be a valid UUID, not \"\(templateID)\"", envelope: .basic)
        }
    }

    /// Checks the content for `channel` (§4, §4.2): a template, or `content_available` for push, or the channel's
    /// own content: `contents.en` for push and SMS, `email_subject` and `email_body` for email. An SMS also needs a
    /// `name`, template or not (the OpenAPI spec v5.12.0, `name`: "Required for SMS Messages").
    func checkContent(channel: String) throws(OneSignalError) {
        if channel == "sms", (body["name"]?.stringValue ?? "").isEmpty {
            throw .invalidRequest("name is required for SMS messages", envelope: .basic)
        }
        if body["template_id"]?.stringValue != nil { return }
        switch channel {
        case "email":
            if (body["email_subject"]?.stringValue ?? "").isEmpty {
                throw .invalidRequest("email_subject is required for email notifications without a template_id", envelope: .basic)
            }
            if (body["email_body"]?.stringValue ?? "").isEmpty {
                throw .invalidRequest("email_body is required for email notifications without a template_id", envelope: .basic)
            }
        default:
            if channel == "push", body["content_available"] == .bool(true) { return }
            guard let english = body["contents"]?["en"]?.stringValue, !english.isEmpty else {
                throw .invalidRequest("Message Notifications must have English language content", envelope: .basic)
            }
        }
    }
}
