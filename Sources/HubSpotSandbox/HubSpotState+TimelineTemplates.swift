import Foundation

/// Timeline event templates (TL-v3): `/integrators/timeline/v3/{appId}/event-templates[/{eventTemplateId}]`, app-level
/// endpoints that take the developer API key (`?hapikey=`), as the legacy API does.
extension HubSpotState {
    /// HubSpot's limit on templates per app (the TL-v3 create operation's description).
    static let timelineTemplateLimit = 750

    /// `TimelineEventTemplate` (TL-v3): `id`, `name`, `objectType`, `tokens[]` (`name`, `label`, `type`), templates.
    private static func templateJSON(_ template: TimelineTemplate) -> JSON {
        [
            "id": .string(template.id), "name": .string(template.name), "objectType": .string(template.objectType),
            "tokens": .array(template.tokens.map { ["name": .string($0), "label": .string($0), "type": "string"] }),
            "headerTemplate": "", "detailTemplate": "",
        ]
    }

    /// The templates an app's endpoints see: its own and the seeded ones.
    private func templates(ofApp appID: String) -> [TimelineTemplate] {
        timelineTemplates.values.filter { $0.appID == nil || $0.appID == appID }.sorted { $0.id < $1.id }
    }

    /// `GET /integrators/timeline/v3/{appId}/event-templates` → `{"results":[…]}` (no paging, as TL-v3's
    /// `CollectionResponseTimelineEventTemplateNoPaging`).
    func listTimelineTemplates(_ call: HubSpotCall) throws -> HubSpotReply {
        .json(["results": .array(templates(ofApp: call.parameters[0]).map(Self.templateJSON))])
    }

    /// `GET /integrators/timeline/v3/{appId}/event-templates/{eventTemplateId}` → the template; 404 when the app has
    /// no such template.
    func getTimelineTemplate(_ call: HubSpotCall) throws -> HubSpotReply {
        guard let template = templates(ofApp: call.parameters[0]).first(where: { $0.id == call.parameters[1] }) else {
            throw HubSpotError.notFound("Event template \(call.parameters[1]) does not exist for app \(call.parameters[0])")
        }
        return .json(Self.templateJSON(template))
    }

    /// `POST /integrators/timeline/v3/{appId}/event-templates` (`TimelineEventTemplateCreateRequest`: `name`,
    /// `objectType` and `tokens` required; `headerTemplate`, `detailTemplate`) → 201 with the new template's id.
    mutating func createTimelineTemplate(_ call: HubSpotCall) throws -> HubSpotReply {
        let schema = "TimelineEventTemplateCreateRequest"
        let body = try call.object(schema)
        try body.rejectUnknownKeys(["name", "objectType", "tokens", "headerTemplate", "detailTemplate"], schema)
        let name = try body.requiredString("name", schema)
        let objectType = try body.requiredString("objectType", schema)
        guard ["contacts", "companies", "deals", "tickets"].contains(objectType.lowercased()) else {
            throw HubSpotError.validation("Invalid objectType \(objectType): expected contacts, companies, deals or tickets")
        }
        var tokens: [String] = []
        for token in try body.requiredObjects("tokens", schema) {
            let tokenSchema = "TimelineEventTemplateToken"
            let tokenName = try token.requiredString("name", tokenSchema)
            _ = try token.requiredString("label", tokenSchema)
            let type = try token.requiredString("type", tokenSchema)
            guard ["date", "enumeration", "number", "string"].contains(type) else {
                throw HubSpotError.validation("Invalid type \(type) of token \(tokenName): expected date, enumeration, number or string")
            }
            tokens.append(tokenName)
        }
        let appID = call.parameters[0]
        guard timelineTemplates.values.count(where: { $0.appID == appID }) < Self.timelineTemplateLimit else {
            throw HubSpotError.validation("App \(appID) has \(Self.timelineTemplateLimit) event templates, the most an app may have")
        }
        let template = TimelineTemplate(
            id: String(nextObjectID), name: name, objectType: objectType.lowercased(), tokens: tokens, appID: appID)
        nextObjectID += 1
        timelineTemplates[template.id] = template
        return .json(Self.templateJSON(template), status: 201)
    }
}
