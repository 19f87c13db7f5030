/// One event of a webhooks v3 delivery (HubSpot → app), as HubSpot sends it. Optional fields are left out when `nil`.
public struct HubSpotWebhookEvent: Sendable, Codable, Equatable {
    /// The event's id (not guaranteed unique by HubSpot).
    public var eventId: Int
    /// The subscription that matched.
    public var subscriptionId: Int
    /// The portal (hub) the change happened in.
    public var portalId: Int
    /// The app the subscription belongs to.
    public var appId: Int
    /// Milliseconds since 1970.
    public var occurredAt: Int
    /// e.g. `contact.propertyChange`, `contact.creation`, `company.deletion`, `object.propertyChange`.
    public var subscriptionType: String
    /// The delivery attempt, from 0.
    public var attemptNumber: Int
    /// The changed object's id.
    public var objectId: Int
    /// The object type id on generic `object.*` events, e.g. `0-1`.
    public var objectTypeId: String?
    /// The changed property on `*.propertyChange` events.
    public var propertyName: String?
    /// The property's new value on `*.propertyChange` events.
    public var propertyValue: String?
    /// e.g. `CREATED`, `DELETED`, `NEW`.
    public var changeFlag: String?
    /// e.g. `CRM_UI`, `API`, `IMPORT`, `INTEGRATION`.
    public var changeSource: String?
    /// Who made the change, e.g. `userId:45678` or an app id.
    public var sourceId: String?
    /// The surviving object on `*.merge` events.
    public var primaryObjectId: Int?
    /// The objects merged away on `*.merge` events.
    public var mergedObjectIds: [Int]?
    /// The id the merged object got on `*.merge` events.
    public var newObjectId: Int?
    /// How many properties moved on `*.merge` events.
    public var numberOfPropertiesMoved: Int?
    /// e.g. `CONTACT_TO_COMPANY` on `*.associationChange` events.
    public var associationType: String?
    /// The association's source on `*.associationChange` events.
    public var fromObjectId: Int?
    /// The association's target on `*.associationChange` events.
    public var toObjectId: Int?
    /// Whether the association was removed on `*.associationChange` events.
    public var associationRemoved: Bool?
    /// Whether the association is the primary one on `*.associationChange` events.
    public var isPrimaryAssociation: Bool?

    /// An event; the defaults fit a change made in HubSpot's UI on the first delivery attempt.
    public init(
        eventId: Int, subscriptionId: Int = 1, portalId: Int, appId: Int = 1, occurredAt: Int, subscriptionType: String,
        attemptNumber: Int = 0, objectId: Int, objectTypeId: String? = nil, propertyName: String? = nil,
        propertyValue: String? = nil, changeFlag: String? = nil, changeSource: String? = "CRM_UI", sourceId: String? = nil,
        primaryObjectId: Int? = nil, mergedObjectIds: [Int]? = nil, newObjectId: Int? = nil,
        numberOfPropertiesMoved: Int? = nil, associationType: String? = nil, fromObjectId: Int? = nil,
        toObjectId: Int? = nil, associationRemoved: Bool? = nil, isPrimaryAssociation: Bool? = nil
    ) {
        self.eventId = eventId
        self.subscriptionId = subscriptionId
        self.portalId = portalId
        self.appId = appId
        self.occurredAt = occurredAt
        self.subscriptionType = subscriptionType
        self.attemptNumber = attemptNumber
        self.objectId = objectId
        self.objectTypeId = objectTypeId
        self.propertyName = propertyName
        self.propertyValue = propertyValue
        self.changeFlag = changeFlag
        self.changeSource = changeSource
        self.sourceId = sourceId
        self.primaryObjectId = primaryObjectId
        self.mergedObjectIds = mergedObjectIds
        self.newObjectId = newObjectId
        self.numberOfPropertiesMoved = numberOfPropertiesMoved
        self.associationType = associationType
        self.fromObjectId = fromObjectId
        self.toObjectId = toObjectId
        self.associationRemoved = associationRemoved
        self.isPrimaryAssociation = isPrimaryAssociation
    }
}
