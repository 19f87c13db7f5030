import Domain

/// A user of a sandbox app: aliases, tags, other properties and subscriptions (`shared/contracts/onesignal.md` §2).
public struct OneSignalUser: Sendable, Equatable {
    /// The server-assigned id (UUID v4, lower case).
    public let onesignalID: String
    /// The aliases other than `onesignal_id`: `external_id` and custom labels.
    public internal(set) var aliases: [String: String]
    /// The data tags; values are always strings.
    public internal(set) var tags: [String: String]
    /// The other properties as last set (`language`, `timezone_id`, `country`, `lat`, `long`, `first_active`, …).
    public internal(set) var properties: [String: JSONValue]
    /// The user's subscriptions, oldest first.
    public internal(set) var subscriptions: [OneSignalSubscription]

    /// The `external_id` alias, if set.
    public var externalID: String? { aliases["external_id"] }

    /// All aliases including `onesignal_id`, as `identity` in the API.
    public var identity: [String: String] {
        var identity = aliases
        identity["onesignal_id"] = onesignalID
        return identity
    }

    /// The user as the API shows it (§2.2): `identity`, `properties` (with `tags`) and `subscriptions`.
    func json(appID: String) -> JSONValue {
        .object([
            "identity": Self.identityJSON(identity),
            "properties": propertiesJSON,
            "subscriptions": .array(subscriptions.map { $0.json(appID: appID) }),
        ])
    }

    /// `properties` as the API shows it.
    var propertiesJSON: JSONValue {
        var members = properties
        members["tags"] = .object(tags.mapValues { .string($0) })
        return .object(members)
    }

    /// `{"identity": {…}}`.
    var identityBody: JSONValue {
        .object(["identity": Self.identityJSON(identity)])
    }

    static func identityJSON(_ identity: [String: String]) -> JSONValue {
        .object(identity.mapValues { .string($0) })
    }
}
