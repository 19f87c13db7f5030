/// One event of a webhooks v3 delivery (HubSpot → app), as HubSpot sends it. Optional fields are left out when `nil`.
public struct HubSpotWebhookEvent: Sendable, Codable, Equatable {
    public var eventId: Int
    public var subscriptionId: Int
    public var portalId: Int
    public var appId: Int
    /// Milliseconds since 1970.
    public var occurredAt: Int
    /// e.g. `contact.propertyChange`, `contact.creation`, `company.deletion`, `object.propertyChange`.
    public var subscriptionType: String
    public var attemptNumber: Int
    public var objectId: Int
    public var objectTypeId: String?
    public var propertyName: String?
    public var propertyValue: String?
    public var changeFlag: String?
    /// e.g. `CRM_UI`, `API`, `IMPORT`, `INTEGRATION`.
    public var changeSource: String?
    public var sourceId: String?
    public var primaryObjectId: Int?
    public var mergedObjectIds: [Int]?
    public var newObjectId: Int?
    public var numberOfPropertiesMoved: Int?
    public var associationType: String?
    public var fromObjectId: Int?
    public var toObjectId: Int?
    public var associationRemoved: Bool?
    public var isPrimaryAssociation: Bool?

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
