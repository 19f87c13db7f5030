import Foundation

/// A custom behavioral event occurrence received on `/events/v3/send`.
public struct BehavioralEventRecord: Sendable, Equatable {
    /// `pe{portalID}_{name}`.
    public let eventName: String
    /// The email the event was sent with, if any.
    public let email: String?
    /// The tracking cookie token the event was sent with, if any.
    public let utk: String?
    /// The contact's id when the event was sent by `objectId` (or matched by email).
    public let objectID: String?
    /// The idempotency key, if sent.
    public let uuid: String?
    /// `occurredAt` as sent, or the arrival time when absent.
    public let occurredAt: Date
    /// The event properties, values as strings.
    public let properties: [String: String]
}

/// A timeline event (v3) received on `/integrators/timeline/v3/events`.
public struct TimelineEventRecord: Sendable, Equatable {
    /// The event's id (sent or generated); a second event with the same id and template is refused (`409`).
    public let id: String
    /// The template the event belongs to.
    public let eventTemplateID: String
    /// The email the event was sent with, if any.
    public let email: String?
    /// The object the event is attached to (the contact when sent by email).
    public let objectID: String?
    /// The tracking cookie token the event was sent with, if any.
    public let utk: String?
    /// When the event happened (`timestamp` as sent, or the arrival time).
    public let timestamp: Date
    /// The template's tokens, values as strings.
    public let tokens: [String: String]
    /// `extraData` as compact JSON text, if sent.
    public let extraDataJSON: String?
}

/// A workflow-action callback completion received on `/automation/v4/actions/callbacks/…/complete`.
public struct CallbackCompletionRecord: Sendable, Equatable {
    /// The `callbackId` completed.
    public let callbackID: String
    /// The output fields, values as strings.
    public let outputFields: [String: String]
    /// When the completion arrived.
    public let receivedAt: Date
}

/// A custom workflow action definition created on `/automation/v4/actions/{appId}` (and maybe updated since).
public struct ActionDefinitionRecord: Sendable, Equatable {
    /// The app the definition belongs to (the path's `appId`).
    public let appID: String
    /// The id HubSpot assigned.
    public let id: String
    /// The revision: `1` for a new definition, one more per update.
    public let revisionID: String
    /// The URL HubSpot calls when the action runs.
    public let actionURL: String
    /// The definition as HubSpot answers it (with `id` and `revisionId`), as compact JSON text.
    public let definitionJSON: String
}

/// A timeline event template (v3) that timeline events refer to by id: created on
/// `/integrators/timeline/v3/{appId}/event-templates` with the developer API key, or seeded by tests.
public struct TimelineTemplate: Sendable, Equatable {
    /// The template's id (`eventTemplateId` in events).
    public let id: String
    /// The template's name.
    public let name: String
    /// The object type events of this template attach to, e.g. `contacts`.
    public let objectType: String
    /// The token names events may set; empty accepts any.
    public let tokens: [String]
    /// The app the template belongs to; `nil` for a seeded template, which every app's endpoints list.
    public let appID: String?

    /// A template; events refer to it by `id` as `eventTemplateId`.
    public init(id: String, name: String, objectType: String = "contacts", tokens: [String] = [], appID: String? = nil) {
        self.id = id
        self.name = name
        self.objectType = objectType
        self.tokens = tokens
        self.appID = appID
    }
}
