import Domain
import Foundation
import HTTPTypes
import Hummingbird
import SandboxKit

/// The legacy tag edit by external user id (§3, optional in the §9 checklist), on the legacy path prefix `/api/v1`.
extension OneSignalAPI {
    func registerLegacyRoutes(on router: Router<SandboxRequestContext>) {
        router.put("api/v1/apps/:app_id/users/:external_user_id") { request, context in
            await self.answer { () async throws(OneSignalError) in try await self.editTagsByExternalUserID(request, context) }
        }
    }

    /// `PUT /api/v1/apps/{app_id}/users/{external_user_id}` with `{"tags": {…}}`: `200 {"success": true}`; `""`
    /// deletes a tag; errors in the legacy envelope `{"errors": […], "success": false}`.
    func editTagsByExternalUserID(_ request: Request, _ context: SandboxRequestContext) async throws(OneSignalError) -> Response {
        let appID = try authorize(request, appID: parameter(context, "app_id"))
        let externalID = parameter(context, "external_user_id")
        do throws(OneSignalError) {
            let body = try await jsonObject(request, envelope: .basic)
            guard let tags = body["tags"], case .object = tags else {
                throw OneSignalError.invalidRequest("tags is required and must be an object", envelope: .basic)
            }
            let (patch, _) = try propertiesInput(.object(["tags": tags]))
            try withApp(appID) { app throws(OneSignalError) in
                let userID = try writeTarget(&app, label: "external_id", id: externalID, envelope: .basic)
                try app.updateUser(id: userID, tags: patch, properties: [:], deltas: [:])
            }
        } catch {
            throw error.legacy
        }
        return OneSignalResponse.json(.ok, .object(["success": .bool(true)]))
    }
}

extension OneSignalError {
    /// The same error in the legacy envelope: each structured error's title as a string, and `"success": false`.
    fileprivate var legacy: OneSignalError {
        guard case .array(let errors)? = body["errors"] else { return self }
        let messages = errors.map { error -> JSONValue in
            if case .string = error { return error }
            return error["title"] ?? error
        }
        return OneSignalError(
            status: status, body: .object(["errors": .array(messages), "success": .bool(false)]), headers: headers)
    }
}
