import Domain
import Foundation
import HTTPTypes
import Hummingbird
import SandboxKit

/// Segments: create, list, view, update, delete (§6).
extension OneSignalAPI {
    func registerSegmentRoutes(on router: Router<SandboxRequestContext>) {
        router.post("apps/:app_id/segments") { request, context in
            await self.answer { () async throws(OneSignalError) in try await self.createSegment(request, context) }
        }
        router.get("apps/:app_id/segments") { request, context in
            await self.answer { () async throws(OneSignalError) in try self.listSegments(request, context) }
        }
        router.get("apps/:app_id/segments/:segment_id") { request, context in
            await self.answer { () async throws(OneSignalError) in try self.viewSegment(request, context) }
        }
        router.patch("apps/:app_id/segments/:segment_id") { request, context in
            await self.answer { () async throws(OneSignalError) in try await self.updateSegment(request, context) }
        }
        router.delete("apps/:app_id/segments/:segment_id") { request, context in
            await self.answer { () async throws(OneSignalError) in try self.deleteSegment(request, context) }
        }
    }

    /// `POST /apps/{app_id}/segments`: `201 {"success": true, "id"}`; `409` for an id or name the app already has.
    func createSegment(_ request: Request, _ context: SandboxRequestContext) async throws(OneSignalError) -> Response {
        let appID = try authorize(request, appID: parameter(context, "app_id"))
        let body = try await segmentBody(request, schema: OneSignalSchemas.segment)
        let id = body["id"]?.stringValue?.lowercased() ?? UUID().uuidString.lowercased()
        guard UUID(uuidString: id) != nil else { throw .invalidSegment("id must be a UUID, not \"\(id)\"") }
        let name = body["name"]?.stringValue ?? ""
        guard !name.isEmpty else { throw .invalidSegment("name must not be empty") }
        let filters = try segmentFilters(body)
        try withApp(appID) { app throws(OneSignalError) in
            if app.segments.contains(where: { $0.id == id }) { throw .segmentConflict("A segment with id \(id) already exists") }
            if app.segments.contains(where: { $0.name == name }) {
                throw .segmentConflict("A segment named \"\(name)\" already exists")
            }
            let now = Date()
            app.segments.append(
                OneSignalSegment(id: id, name: name, description: nil, filters: filters, createdAt: now, updatedAt: now))
        }
        return OneSignalResponse.json(.created, .object(["success": .bool(true), "id": .string(id)]))
    }

    /// `GET /apps/{app_id}/segments?offset=&limit=`: oldest first, at most 300 per page.
    func listSegments(_ request: Request, _ context: SandboxRequestContext) throws(OneSignalError) -> Response {
        let appID = try authorize(request, appID: parameter(context, "app_id"))
        let query = request.uri.queryParameters
        let offset = query["offset"].flatMap { Int($0) } ?? 0
        let limit = query["limit"].flatMap { Int($0) } ?? 300
        guard offset >= 0, (1...300).contains(limit) else {
            throw .invalidRequest("offset must not be negative and limit must be between 1 and 300", envelope: .basic)
        }
        let segments = try withApp(appID) { app throws(OneSignalError) in app.segments }
        return OneSignalResponse.json(
            .ok,
            .object([
                "total_count": .int(Int64(segments.count)), "offset": .int(Int64(offset)), "limit": .int(Int64(limit)),
                "segments": .array(segments.dropFirst(offset).prefix(limit).map { $0.listJSON(appID: appID) }),
            ]))
    }

    /// `GET /apps/{app_id}/segments/{id}`: the subscriber count, and with `include-segment-detail=true` the segment.
    func viewSegment(_ request: Request, _ context: SandboxRequestContext) throws(OneSignalError) -> Response {
        let appID = try authorize(request, appID: parameter(context, "app_id"))
        let id = parameter(context, "segment_id").lowercased()
        let (segment, count) = try withApp(appID) { app throws(OneSignalError) in
            guard let segment = app.segments.first(where: { $0.id == id }) else { throw OneSignalError.segmentNotFound }
            let count = app.allUsers.filter { SegmentFilter.matches(segment.filters, user: $0) }
                .reduce(0) { $0 + $1.subscriptions.filter(\.isSubscribed).count }
            return (segment, count)
        }
        var members: [String: JSONValue] = ["subscriber_count": .int(Int64(count))]
        if request.uri.queryParameters["include-segment-detail"] == "true" {
            members["payload"] = segment.detailJSON
        }
        return OneSignalResponse.json(.ok, .object(members))
    }

    /// `PATCH /apps/{app_id}/segments/{id}`: `name` required, `filters` (when sent) replace all; `200 {"success", "id"}`.
    func updateSegment(_ request: Request, _ context: SandboxRequestContext) async throws(OneSignalError) -> Response {
        let appID = try authorize(request, appID: parameter(context, "app_id"))
        let id = parameter(context, "segment_id").lowercased()
        let body = try await segmentBody(request, schema: OneSignalSchemas.updateSegmentRequest)
        let name = body["name"]?.stringValue ?? ""
        guard !name.isEmpty else { throw .invalidSegment("name must not be empty") }
        let filters: [JSONValue]? = if body["filters"] == nil { nil } else { try segmentFilters(body) }
        try withApp(appID) { app throws(OneSignalError) in
            guard let index = app.segments.firstIndex(where: { $0.id == id }) else { throw OneSignalError.segmentNotFound }
            if app.segments.contains(where: { $0.name == name && $0.id != id }) {
                throw .segmentConflict("A segment named \"\(name)\" already exists")
            }
            app.segments[index].name = name
            if let description = body["description"]?.stringValue {
                app.segments[index].description = description.isEmpty ? nil : description
            }
            if let filters { app.segments[index].filters = filters }
            app.segments[index].updatedAt = Date()
        }
        return OneSignalResponse.json(.ok, .object(["success": .bool(true), "id": .string(id)]))
    }

    /// `DELETE /apps/{app_id}/segments/{id}`: `200 {"success": true}`, or `404 {"success": false}`.
    func deleteSegment(_ request: Request, _ context: SandboxRequestContext) throws(OneSignalError) -> Response {
        let appID = try authorize(request, appID: parameter(context, "app_id"))
        let id = parameter(context, "segment_id").lowercased()
        try withApp(appID) { app throws(OneSignalError) in
            guard let index = app.segments.firstIndex(where: { $0.id == id }) else {
                throw OneSignalError.segmentNotFoundOnDelete
            }
            app.segments.remove(at: index)
        }
        return OneSignalResponse.json(.ok, .object(["success": .bool(true)]))
    }

    private func segmentBody(_ request: Request, schema: Schema) async throws(OneSignalError) -> [String: JSONValue] {
        let body: [String: JSONValue]
        do {
            body = try await jsonObject(request, envelope: .basic)
        } catch {
            throw .invalidSegment(error.body["errors"]?.arrayItems?.first?.stringValue ?? "the body is not a JSON object")
        }
        do {
            try SchemaValidator.validate(.object(body), against: schema)
        } catch {
            throw .invalidSegment(error.description)
        }
        return body
    }

    private func segmentFilters(_ body: [String: JSONValue]) throws(OneSignalError) -> [JSONValue] {
        guard case .array(let filters)? = body["filters"] else { return [] }
        if let problem = SegmentFilter.problem(in: filters) { throw .invalidSegment(problem) }
        return filters
    }
}
