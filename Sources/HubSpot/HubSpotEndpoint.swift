/// One HubSpot endpoint HubSignal calls: its method and path, what it authenticates with, and where its contract is
/// published (a file of `HubSpot/HubSpot-public-api-spec-collection`, under `PublicApiSpecs/`).
///
/// ``all`` is the one list of what HubSignal asks of HubSpot: the app project's scopes, the contract table in
/// `docs/hubspot-contract.md` and the tests that every request the client makes is listed all come from it.
public struct HubSpotEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// How a call authenticates.
    public enum Authentication: String, Sendable, Hashable {
        /// The account's token (a static auth token, or an OAuth access token) as `Authorization: Bearer`.
        case accountToken = "account token"
        /// The developer account's API key as `?hapikey=` (app-level definitions; legacy apps only).
        case developerAPIKey = "developer API key"
        /// The app's client id and secret in a form body (OAuth token exchange and refresh).
        case clientCredentials = "client id and secret"
    }

    /// `GET`, `POST`, `PUT`, `PATCH`.
    public let method: String
    /// The path with `{placeholders}` for its variable segments, e.g. `/crm/v3/objects/{objectType}`.
    public let path: String
    /// The scope the call needs with ``Authentication/accountToken``; `nil` for the others.
    public let scope: HubSpotScope?
    /// What the call authenticates with.
    public let authentication: Authentication
    /// The spec file the request and answer are read from, relative to `PublicApiSpecs/`.
    public let spec: String

    public init(_ method: String, _ path: String, scope: HubSpotScope?, authentication: Authentication = .accountToken, spec: String) {
        self.method = method
        self.path = path
        self.scope = scope
        self.authentication = authentication
        self.spec = spec
    }

    /// `POST /crm/v3/objects/{objectType}`.
    public var description: String { "\(method) \(path)" }

    /// Whether a concrete request path (without its query) is this endpoint's: literal segments equal, each
    /// `{placeholder}` matching one segment.
    public func matches(method: String, path requestPath: String) -> Bool {
        guard method == self.method else { return false }
        let pattern = path.split(separator: "/")
        let segments = requestPath.split(separator: "?", maxSplits: 1).first.map { $0.split(separator: "/") } ?? []
        guard pattern.count == segments.count else { return false }
        return zip(pattern, segments).allSatisfy { part, segment in
            (part.hasPrefix("{") && part.hasSuffix("}")) || part == segment
        }
    }

    /// The endpoint a request goes to, if HubSignal calls it: of several that match, the one with the most literal
    /// segments (`/crm/v3/objects/notes` rather than `/crm/v3/objects/{objectType}`).
    public static func endpoint(method: String, path: String) -> HubSpotEndpoint? {
        all.filter { $0.matches(method: method, path: path) }.max { $0.literalSegments < $1.literalSegments }
    }

    private var literalSegments: Int {
        path.split(separator: "/").count { !$0.hasPrefix("{") }
    }
}

/// A HubSpot OAuth / static-auth scope, e.g. `crm.objects.contacts.write`.
public struct HubSpotScope: RawRepresentable, Sendable, Hashable, Comparable, ExpressibleByStringLiteral, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { rawValue }
    public static func < (lhs: HubSpotScope, rhs: HubSpotScope) -> Bool { lhs.rawValue < rhs.rawValue }

    public static let contactsRead: HubSpotScope = "crm.objects.contacts.read"
    public static let contactsWrite: HubSpotScope = "crm.objects.contacts.write"
    public static let companiesRead: HubSpotScope = "crm.objects.companies.read"
    public static let companiesWrite: HubSpotScope = "crm.objects.companies.write"
    public static let contactSchemasRead: HubSpotScope = "crm.schemas.contacts.read"
    public static let contactSchemasWrite: HubSpotScope = "crm.schemas.contacts.write"
    public static let companySchemasRead: HubSpotScope = "crm.schemas.companies.read"
    public static let companySchemasWrite: HubSpotScope = "crm.schemas.companies.write"
    public static let customObjectsRead: HubSpotScope = "crm.objects.custom.read"
    public static let customObjectsWrite: HubSpotScope = "crm.objects.custom.write"
    public static let customSchemasRead: HubSpotScope = "crm.schemas.custom.read"
    public static let behavioralEventsSend: HubSpotScope = "analytics.behavioral_events.send"
    public static let eventDefinitions: HubSpotScope = "behavioral_events.event_definitions.read_write"
    public static let timeline: HubSpotScope = "timeline"
    public static let automation: HubSpotScope = "automation"
    /// Granted to every OAuth app; needed by the authorize URL of an app that asks for no other scope.
    public static let oauth: HubSpotScope = "oauth"
}

extension HubSpotEndpoint {
    private static let objects = "CRM/Objects/Rollouts/424/v3/objects.json"
    private static let contacts = "CRM/Contacts/Rollouts/424/v3/contacts.json"
    private static let notes = "CRM/Notes/Rollouts/424/v3/notes.json"
    private static let properties = "CRM/Properties/Rollouts/145899/v3/properties.json"
    private static let associations = "CRM/Associations/Rollouts/130902/v4/associations.json"
    private static let associationSchema = "CRM/Associations Schema/Rollouts/130902/v4/associationsSchema.json"
    private static let sendEvents = "Events/Send Event Completions/Rollouts/669/v3/sendEventCompletions.json"
    private static let eventDefinitionsSpec = "Events/Manage Event Definitions/Rollouts/138888/v3/manageEventDefinitions.json"
    private static let timelineSpec = "CRM/Timeline/Rollouts/147898/v3/timeline.json"
    private static let actions = "Automation/Actions V4/Rollouts/148901/v4/actionsV4.json"
    private static let oauthSpec = "Auth/Oauth/Rollouts/279897/v3/oauth.json"

    // Contacts and companies
    public static let upsertContacts = HubSpotEndpoint("POST", "/crm/v3/objects/contacts/batch/upsert", scope: .contactsWrite, spec: contacts)
    public static let upsertCompanies = HubSpotEndpoint("POST", "/crm/v3/objects/companies/batch/upsert", scope: .companiesWrite, spec: objects)
    public static let searchCompanies = HubSpotEndpoint("POST", "/crm/v3/objects/companies/search", scope: .companiesRead, spec: objects)
    public static let gdprDeleteContact = HubSpotEndpoint("POST", "/crm/v3/objects/contacts/gdpr-delete", scope: .contactsWrite, spec: contacts)
    public static let listContactProperties = HubSpotEndpoint("GET", "/crm/v3/properties/contacts", scope: .contactSchemasRead, spec: properties)
    public static let createContactProperty = HubSpotEndpoint("POST", "/crm/v3/properties/contacts", scope: .contactSchemasWrite, spec: properties)
    public static let listCompanyProperties = HubSpotEndpoint("GET", "/crm/v3/properties/companies", scope: .companySchemasRead, spec: properties)
    public static let createCompanyProperty = HubSpotEndpoint("POST", "/crm/v3/properties/companies", scope: .companySchemasWrite, spec: properties)
    public static let associateContactsWithCompanies = HubSpotEndpoint(
        "POST", "/crm/v4/associations/contact/company/batch/create", scope: .contactsWrite, spec: associations)

    // Custom objects (`custom_objects:` in the mapping)
    public static let searchCustomObjects = HubSpotEndpoint("POST", "/crm/v3/objects/{objectType}/search", scope: .customObjectsRead, spec: objects)
    public static let createCustomObject = HubSpotEndpoint("POST", "/crm/v3/objects/{objectType}", scope: .customObjectsWrite, spec: objects)
    public static let updateCustomObject = HubSpotEndpoint("PATCH", "/crm/v3/objects/{objectType}/{objectId}", scope: .customObjectsWrite, spec: objects)
    public static let associationLabels = HubSpotEndpoint(
        "GET", "/crm/associations/v4/{fromObjectType}/{toObjectType}/labels", scope: .customSchemasRead, spec: associationSchema)
    public static let associateLabelled = HubSpotEndpoint(
        "PUT", "/crm/v4/objects/{objectType}/{objectId}/associations/{toObjectType}/{toObjectId}", scope: .customObjectsWrite,
        spec: associations)
    public static let associateDefault = HubSpotEndpoint(
        "PUT", "/crm/v4/objects/{objectType}/{objectId}/associations/default/{toObjectType}/{toObjectId}", scope: .customObjectsWrite,
        spec: associations)

    // Behavioral events, notes, timeline
    public static let sendBehavioralEvents = HubSpotEndpoint("POST", "/events/v3/send/batch", scope: .behavioralEventsSend, spec: sendEvents)
    public static let listEventDefinitions = HubSpotEndpoint(
        "GET", "/events/v3/event-definitions", scope: .eventDefinitions, spec: eventDefinitionsSpec)
    public static let createEventDefinition = HubSpotEndpoint(
        "POST", "/events/v3/event-definitions", scope: .eventDefinitions, spec: eventDefinitionsSpec)
    public static let createEventProperty = HubSpotEndpoint(
        "POST", "/events/v3/event-definitions/{eventName}/property", scope: .eventDefinitions, spec: eventDefinitionsSpec)
    public static let createNote = HubSpotEndpoint("POST", "/crm/v3/objects/notes", scope: .contactsWrite, spec: notes)
    public static let searchNotes = HubSpotEndpoint("POST", "/crm/v3/objects/notes/search", scope: .contactsRead, spec: notes)
    public static let createTimelineEvent = HubSpotEndpoint("POST", "/integrators/timeline/v3/events", scope: .timeline, spec: timelineSpec)
    public static let timelineTemplate = HubSpotEndpoint(
        "GET", "/integrators/timeline/v3/{appId}/event-templates/{eventTemplateId}", scope: nil, authentication: .developerAPIKey,
        spec: timelineSpec)

    // Workflow actions
    public static let completeCallback = HubSpotEndpoint(
        "POST", "/automation/v4/actions/callbacks/{callbackId}/complete", scope: .automation, spec: actions)
    public static let completeCallbacks = HubSpotEndpoint(
        "POST", "/automation/v4/actions/callbacks/complete", scope: .automation, spec: actions)
    public static let listActionDefinitions = HubSpotEndpoint(
        "GET", "/automation/v4/actions/{appId}", scope: nil, authentication: .developerAPIKey, spec: actions)
    public static let createActionDefinition = HubSpotEndpoint(
        "POST", "/automation/v4/actions/{appId}", scope: nil, authentication: .developerAPIKey, spec: actions)
    public static let updateActionDefinition = HubSpotEndpoint(
        "PATCH", "/automation/v4/actions/{appId}/{definitionId}", scope: nil, authentication: .developerAPIKey, spec: actions)

    // OAuth
    public static let token = HubSpotEndpoint("POST", "/oauth/v3/token", scope: nil, authentication: .clientCredentials, spec: oauthSpec)
    public static let introspectToken = HubSpotEndpoint(
        "POST", "/oauth/v3/token/introspect", scope: nil, authentication: .clientCredentials, spec: oauthSpec)

    /// Every endpoint HubSignal calls.
    public static let all: [HubSpotEndpoint] = [
        upsertContacts, upsertCompanies, searchCompanies, gdprDeleteContact, listContactProperties, createContactProperty, listCompanyProperties,
        createCompanyProperty, associateContactsWithCompanies, searchCustomObjects, createCustomObject, updateCustomObject,
        associationLabels, associateLabelled, associateDefault, sendBehavioralEvents, listEventDefinitions, createEventDefinition,
        createEventProperty, createNote, searchNotes, createTimelineEvent, timelineTemplate, completeCallback, completeCallbacks,
        listActionDefinitions, createActionDefinition, updateActionDefinition, token, introspectToken,
    ]
}
