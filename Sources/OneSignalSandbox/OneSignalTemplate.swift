import Domain
import Foundation

/// A message template of a sandbox app (OneSignal's templates API, `GET /templates`): what a notification's
/// `template_id` names. Seeded by tests and demos (``OneSignalSandbox/seedTemplate(appID:name:channel:id:)``).
public struct OneSignalTemplate: Sendable, Equatable {
    /// The id (a UUID, lower case).
    public let id: String
    /// The name shown in OneSignal's dashboard.
    public internal(set) var name: String
    /// `push`, `email` or `sms`.
    public internal(set) var channel: String
    /// When it was created.
    public let createdAt: Date
    /// When it was last changed.
    public internal(set) var updatedAt: Date

    /// The channels a template (and the list's `channel` filter) may name.
    static let channels: Set<String> = ["push", "email", "sms"]

    /// The template as `GET /templates` lists it: a summary (id, name, timestamps) and its channel, never its content
    /// (the docs: the list "does not return full template content").
    var listJSON: JSONValue {
        .object([
            "id": .string(id), "name": .string(name), "channel": .string(channel),
            "created_at": .string(createdAt.formatted(.iso8601)), "updated_at": .string(updatedAt.formatted(.iso8601)),
        ])
    }
}
