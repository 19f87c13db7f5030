/// One endpoint: a method, a path pattern (`*` matches one segment) and the handler run under the state's lock.
struct HubSpotRoute: Sendable {
    typealias Handler = @Sendable (inout HubSpotState, HubSpotCall) throws -> HubSpotReply

    let method: String
    let pattern: [Substring]
    let handler: Handler

    init(_ method: String, _ pattern: String, _ handler: @escaping Handler) {
        self.method = method
        self.pattern = pattern.split(separator: "/")
        self.handler = handler
    }

    /// The `*` segments' values when `segments` matches the pattern.
    func match(method: String, segments: [String]) -> [String]? {
        guard method == self.method, segments.count == pattern.count else { return nil }
        var parameters: [String] = []
        for (part, segment) in zip(pattern, segments) {
            if part == "*" {
                parameters.append(segment)
            } else if part != segment {
                return nil
            }
        }
        return parameters
    }

    /// Every endpoint the sandbox serves, most specific first.
    static let all: [HubSpotRoute] = [
        // CRM objects v3
        HubSpotRoute("POST", "crm/v3/objects/*/batch/create") { try $0.batchCreate($1) },
        HubSpotRoute("POST", "crm/v3/objects/*/batch/read") { try $0.batchRead($1) },
        HubSpotRoute("POST", "crm/v3/objects/*/batch/update") { try $0.batchUpdate($1) },
        HubSpotRoute("POST", "crm/v3/objects/*/batch/upsert") { try $0.batchUpsert($1) },
        HubSpotRoute("POST", "crm/v3/objects/*/batch/archive") { try $0.batchArchive($1) },
        HubSpotRoute("POST", "crm/v3/objects/*/search") { try $0.search($1) },
        HubSpotRoute("POST", "crm/v3/objects/*/gdpr-delete") { try $0.gdprDelete($1) },
        HubSpotRoute("POST", "crm/v3/objects/*/merge") { try $0.mergeObjects($1) },
        HubSpotRoute("POST", "crm/v3/objects/*") { try $0.createObject($1) },
        HubSpotRoute("GET", "crm/v3/objects/*") { try $0.listObjects($1) },
        HubSpotRoute("GET", "crm/v3/objects/*/*") { try $0.getObject($1) },
        HubSpotRoute("PATCH", "crm/v3/objects/*/*") { try $0.updateObject($1) },
        HubSpotRoute("DELETE", "crm/v3/objects/*/*") { try $0.archiveObject($1) },
        // Properties
        HubSpotRoute("GET", "crm/v3/properties/*/groups") { try $0.listGroups($1) },
        HubSpotRoute("POST", "crm/v3/properties/*/groups") { try $0.createGroup($1) },
        HubSpotRoute("GET", "crm/v3/properties/*/groups/*") { try $0.getGroup($1) },
        HubSpotRoute("PATCH", "crm/v3/properties/*/groups/*") { try $0.updateGroup($1) },
        HubSpotRoute("DELETE", "crm/v3/properties/*/groups/*") { try $0.archiveGroup($1) },
        HubSpotRoute("POST", "crm/v3/properties/*/batch/create") { try $0.batchCreateProperties($1) },
        HubSpotRoute("POST", "crm/v3/properties/*/batch/read") { try $0.batchReadProperties($1) },
        HubSpotRoute("POST", "crm/v3/properties/*/batch/archive") { try $0.batchArchiveProperties($1) },
        HubSpotRoute("GET", "crm/v3/properties/*") { try $0.listProperties($1) },
        HubSpotRoute("POST", "crm/v3/properties/*") { try $0.createProperty($1) },
        HubSpotRoute("GET", "crm/v3/properties/*/*") { try $0.getProperty($1) },
        HubSpotRoute("PATCH", "crm/v3/properties/*/*") { try $0.updateProperty($1) },
        HubSpotRoute("DELETE", "crm/v3/properties/*/*") { try $0.archiveProperty($1) },
        // Associations v4
        HubSpotRoute("PUT", "crm/v4/objects/*/*/associations/default/*/*") { try $0.putDefaultAssociation($1) },
        HubSpotRoute("PUT", "crm/v4/objects/*/*/associations/*/*") { try $0.putLabelledAssociation($1) },
        HubSpotRoute("GET", "crm/v4/objects/*/*/associations/*") { try $0.listAssociations($1) },
        HubSpotRoute("DELETE", "crm/v4/objects/*/*/associations/*/*") { try $0.deleteAssociation($1) },
        HubSpotRoute("POST", "crm/v4/associations/*/*/batch/associate/default") { try $0.batchAssociateDefault($1) },
        HubSpotRoute("POST", "crm/v4/associations/*/*/batch/create") { try $0.batchCreateAssociations($1) },
        HubSpotRoute("POST", "crm/v4/associations/*/*/batch/read") { try $0.batchReadAssociations($1) },
        HubSpotRoute("POST", "crm/v4/associations/*/*/batch/archive") { try $0.batchArchiveAssociations($1) },
        // Association labels: the current spec's path, and the 2024 spec's (both served by HubSpot)
        HubSpotRoute("GET", "crm/associations/v4/*/*/labels") { try $0.listAssociationLabels($1) },
        HubSpotRoute("POST", "crm/associations/v4/*/*/labels") { try $0.createAssociationLabel($1) },
        HubSpotRoute("GET", "crm/v4/associations/*/*/labels") { try $0.listAssociationLabels($1) },
        HubSpotRoute("POST", "crm/v4/associations/*/*/labels") { try $0.createAssociationLabel($1) },
        // Custom object schemas
        HubSpotRoute("GET", "crm/v3/schemas") { try $0.listSchemas($1) },
        HubSpotRoute("GET", "crm/v3/schemas/*") { try $0.getSchema($1) },
        // Events
        HubSpotRoute("POST", "events/v3/send") { try $0.sendEvent($1) },
        HubSpotRoute("POST", "events/v3/event-definitions") { try $0.createEventDefinition($1) },
        HubSpotRoute("GET", "events/v3/event-definitions") { try $0.listEventDefinitions($1) },
        HubSpotRoute("GET", "events/v3/event-definitions/*") { try $0.getEventDefinition($1) },
        HubSpotRoute("POST", "events/v3/event-definitions/*/property") { try $0.createEventProperty($1) },
        HubSpotRoute("POST", "events/v3/send/batch") { try $0.sendEventBatch($1) },
        HubSpotRoute("POST", "integrators/timeline/v3/events") { try $0.createTimelineEvent($1) },
        HubSpotRoute("POST", "integrators/timeline/v3/events/batch/create") { try $0.createTimelineEvents($1) },
        HubSpotRoute("GET", "integrators/timeline/v3/*/event-templates") { try $0.listTimelineTemplates($1) },
        HubSpotRoute("POST", "integrators/timeline/v3/*/event-templates") { try $0.createTimelineTemplate($1) },
        HubSpotRoute("GET", "integrators/timeline/v3/*/event-templates/*") { try $0.getTimelineTemplate($1) },
        // Automation
        HubSpotRoute("POST", "automation/v4/actions/callbacks/complete") { try $0.completeCallbacks($1) },
        HubSpotRoute("POST", "automation/v4/actions/callbacks/*/complete") { try $0.completeCallback($1) },
        HubSpotRoute("POST", "automation/v4/actions/*") { try $0.createActionDefinition($1) },
        HubSpotRoute("GET", "automation/v4/actions/*") { try $0.listActionDefinitions($1) },
        HubSpotRoute("GET", "automation/v4/actions/*/*") { try $0.getActionDefinition($1) },
        HubSpotRoute("PATCH", "automation/v4/actions/*/*") { try $0.updateActionDefinition($1) },
    ]
}
