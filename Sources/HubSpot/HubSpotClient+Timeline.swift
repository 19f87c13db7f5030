import Foundation

/// A timeline event template (TL-v3 `TimelineEventTemplate`): the parts HubSignal reads.
public struct HubSpotTimelineTemplate: Sendable, Hashable, Decodable {
    /// One token of the template.
    public struct Token: Sendable, Hashable, Decodable {
        public var name: String
        public var type: String?
    }

    /// The template's id (a string in the spec; a number decodes too).
    public var id: HubSpotObjectID
    public var name: String
    /// The object type its events attach to, e.g. `contacts`.
    public var objectType: String
    public var tokens: [Token]
}

extension HubSpotClient {
    /// `POST /integrators/timeline/v3/events`: a timeline event of an app's template. `id` makes it idempotent: a
    /// repeated id is answered `409` (HubSpot's TL-26 spec: occurrences are immutable), which counts as written, so a
    /// retry after a lost answer succeeds.
    public func createTimelineEvent(
        templateID: String, email: String?, objectID: String?, id: String, timestamp: String, tokens: [String: String]
    ) async throws {
        struct Body: Encodable {
            var eventTemplateId: String
            var email: String?
            var objectId: String?
            var id: String
            var timestamp: String
            var tokens: [String: String]
        }
        do {
            _ = try await send(
                .POST, "/integrators/timeline/v3/events",
                body: Body(eventTemplateId: templateID, email: email, objectId: objectID, id: id, timestamp: timestamp, tokens: tokens))
        } catch let error as HubSpotError where error.code == .conflict {
            return
        }
    }

    /// `GET /integrators/timeline/v3/{appId}/event-templates/{eventTemplateId}?hapikey=…`: the app's template, or
    /// `nil` when HubSpot answers `404`.
    ///
    /// Templates are app-level: read with the developer account's API key (never logged), not with an account's token.
    public func timelineTemplate(appID: String, templateID: String, developerAPIKey: String) async throws -> HubSpotTimelineTemplate? {
        do {
            let answer = try await send(
                .GET, "/integrators/timeline/v3/\(Self.pathSegment(appID))/event-templates/\(Self.pathSegment(templateID))",
                body: Optional<Int>.none, limiter: .none, authentication: .developerAPIKey(developerAPIKey))
            return try decode(HubSpotTimelineTemplate.self, from: answer)
        } catch let error as HubSpotError where error.code == .notFound {
            return nil
        }
    }
}
