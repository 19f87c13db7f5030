import Foundation

/// A custom behavioral event occurrence received on `/events/v3/send`.
public struct BehavioralEventRecord: Sendable, Equatable {
    /// `pe{portalID}_{name}`.
    public let eventName: String
    public let email: String?
    public let utk: String?
    /// The contact's id when the event was sent by `objectId` (or matched by email).
    public let objectID: String?
    public let uuid: String?
    /// `occurredAt` as sent, or the arrival time when absent.
    public let occurredAt: Date
    public let properties: [String: String]
}

/// A timeline event (v3) received on `/integrators/timeline/v3/events`.
public struct TimelineEventRecord: Sendable, Equatable {
    /// The event's id (sent or generated); a later event with the same id replaces it.
    public let id: String
    public let eventTemplateID: String
    public let email: String?
    public let objectID: String?
    public let utk: String?
    public let timestamp: Date
    public let tokens: [String: String]
    /// `extraData` as compact JSON text, if sent.
    public let extraDataJSON: String?
}

/// A workflow-action callback completion received on `/automation/v4/actions/callbacks/…/complete`.
public struct CallbackCompletionRecord: Sendable, Equatable {
    public let callbackID: String
    /// The output fields, values as strings.
    public let outputFields: [String: String]
    public let receivedAt: Date
}

/// A custom workflow action definition created on `/automation/v4/actions/{appId}`.
public struct ActionDefinitionRecord: Sendable, Equatable {
    public let appID: String
    public let id: String
    public let revisionID: String
    public let actionURL: String
    /// The definition as sent, as compact JSON text.
    public let definitionJSON: String
}

/// A timeline event template that timeline events may refer to (seeded by tests).
public struct TimelineTemplate: Sendable, Equatable {
    public let id: String
    public let name: String
    /// The object type events of this template attach to, e.g. `contacts`.
    public let objectType: String
    /// The token names events may set; empty accepts any.
    public let tokens: [String]

    public init(id: String, name: String, objectType: String = "contacts", tokens: [String] = []) {
        self.id = id
        self.name = name
        self.objectType = objectType
        self.tokens = tokens
    }
}
