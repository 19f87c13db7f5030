import Domain
import Foundation
import HTTPTypes
import Hummingbird
import SandboxKit

/// Users and aliases (`shared/contracts/onesignal.md` §2, §2.1–§2.3, §5).
extension OneSignalAPI {
    func registerUserRoutes(on router: Router<SandboxRequestContext>) {
        router.post("apps/:app_id/users") { request, context in
            await self.answer { () async throws(OneSignalError) in try await self.createUser(request, context) }
        }
        router.get("apps/:app_id/users/by/:alias_label/:alias_id") { request, context in
            await self.answer { () async throws(OneSignalError) in try self.viewUser(request, context, identityOnly: false) }
        }
        router.patch("apps/:app_id/users/by/:alias_label/:alias_id") { request, context in
            await self.answer { () async throws(OneSignalError) in try await self.updateUser(request, context) }
        }
        router.delete("apps/:app_id/users/by/:alias_label/:alias_id") { request, context in
            await self.answer { () async throws(OneSignalError) in try self.deleteUser(request, context) }
        }
        router.get("apps/:app_id/users/by/:alias_label/:alias_id/identity") { request, context in
            await self.answer { () async throws(OneSignalError) in try self.viewUser(request, context, identityOnly: true) }
        }
        router.patch("apps/:app_id/users/by/:alias_label/:alias_id/identity") { request, context in
            await self.answer { () async throws(OneSignalError) in try await self.upsertAliases(request, context) }
        }
        router.delete("apps/:app_id/users/by/:alias_label/:alias_id/identity/:alias_label_to_delete") { request, context in
            await self.answer { () async throws(OneSignalError) in try self.deleteAlias(request, context) }
        }
    }

    /// `POST /apps/{app_id}/users`: `201` new user, `202` existing user modified (its properties too unless
    /// ``OneSignalSandbox/Configuration/createAppliesPropertiesToExistingUsers`` is off), `409` aliases of different
    /// users.
    func createUser(_ request: Request, _ context: SandboxRequestContext) async throws(OneSignalError) -> Response {
        let appID = try authorize(request, appID: parameter(context, "app_id"))
        let body = try await jsonObject(request, envelope: .structured)
        try validate(body, against: OneSignalSchemas.user, envelope: .structured)
        let aliases = body["identity"]?.objectValue?.compactMapValues(\.stringValue) ?? [:]
        if let onesignalID = aliases["onesignal_id"] { try Self.requireUUID(onesignalID, field: "onesignal_id") }
        let subscriptions = try (body["subscriptions"]?.arrayItems ?? [])
            .map { (item) throws(OneSignalError) in try subscriptionInput(item, field: "subscriptions") }
        guard !aliases.isEmpty || !subscriptions.isEmpty else {
            throw .invalidRequest("identity must name at least one alias (or subscriptions must name one)", envelope: .structured)
        }
        let (tags, properties) = try propertiesInput(body["properties"])
        let (created, user) = try withApp(appID) { app throws(OneSignalError) in
            let limit = configuration.rateLimits.userWritesPerSecond
            let known = aliases.sorted { $0.key < $1.key }.compactMap { app.userID(label: $0.key, id: $0.value) }.first
            if let known {
                try Self.rateLimit(&app, .write("user:" + known), limit: limit, envelope: .structured)
            }
            // An existing user's properties change only when the configuration models that reading of the docs.
            let applies = known == nil || configuration.createAppliesPropertiesToExistingUsers
            let result = try app.createOrUpdateUser(
                aliases: aliases, tags: applies ? tags : [:], properties: applies ? properties : [:], subscriptions: subscriptions)
            if result.created {
                // The creation is the new user's first write of this second.
                _ = app.rateLimiters.acquire(.write("user:" + result.user.onesignalID), limit: limit)
            }
            return result
        }
        return OneSignalResponse.json(created ? .created : .accepted, user.json(appID: appID))
    }

    /// `GET …/users/by/{label}/{id}` (the user) and `GET …/identity` (its aliases).
    func viewUser(_ request: Request, _ context: SandboxRequestContext, identityOnly: Bool) throws(OneSignalError) -> Response {
        let appID = try authorize(request, appID: parameter(context, "app_id"))
        let (label, id) = try alias(context)
        let user = try withApp(appID) { app throws(OneSignalError) in
            try Self.rateLimit(&app, .view, limit: configuration.rateLimits.viewsPerSecond, envelope: .structured)
            guard let user = app.user(label: label, id: id) else { throw OneSignalError.userNotFound(label: label, id: id) }
            return user
        }
        return OneSignalResponse.json(.ok, identityOnly ? user.identityBody : user.json(appID: appID))
    }

    /// `PATCH …/users/by/{label}/{id}`: `202` echoing the applied properties; `404` for an unknown user.
    func updateUser(_ request: Request, _ context: SandboxRequestContext) async throws(OneSignalError) -> Response {
        let appID = try authorize(request, appID: parameter(context, "app_id"))
        let (label, id) = try alias(context)
        let body = try await jsonObject(request, envelope: .structured)
        try validate(body, against: OneSignalSchemas.updateUserRequest, envelope: .structured)
        let (tags, properties) = try propertiesInput(body["properties"])
        let deltas = body["deltas"]?.objectValue ?? [:]
        try withApp(appID) { app throws(OneSignalError) in
            let userID = try writeTarget(&app, label: label, id: id)
            try app.updateUser(id: userID, tags: tags, properties: properties, deltas: deltas)
        }
        var echoed = properties
        if body["properties"]?["tags"] != nil {
            echoed["tags"] = .object(tags.mapValues { JSONValue.string($0 ?? "") })
        }
        return OneSignalResponse.json(.accepted, .object(["properties": .object(echoed)]))
    }

    /// `DELETE …/users/by/{label}/{id}`: `200` without a body (spec); `404` for an unknown user.
    func deleteUser(_ request: Request, _ context: SandboxRequestContext) throws(OneSignalError) -> Response {
        let appID = try authorize(request, appID: parameter(context, "app_id"))
        let (label, id) = try alias(context)
        try withApp(appID) { app throws(OneSignalError) in
            app.deleteUser(id: try writeTarget(&app, label: label, id: id))
        }
        return OneSignalResponse.empty(.ok)
    }

    /// `PATCH …/identity`: `200` with all aliases; `409` when an alias belongs to another user.
    func upsertAliases(_ request: Request, _ context: SandboxRequestContext) async throws(OneSignalError) -> Response {
        let appID = try authorize(request, appID: parameter(context, "app_id"))
        let (label, id) = try alias(context)
        let body = try await jsonObject(request, envelope: .structured)
        try validate(body, against: OneSignalSchemas.userIdentityBody, envelope: .structured)
        guard let aliases = body["identity"]?.objectValue?.compactMapValues(\.stringValue), !aliases.isEmpty else {
            throw .invalidRequest("identity is required and must name at least one alias", envelope: .structured)
        }
        if aliases["onesignal_id"] != nil {
            throw .invalidRequest("identity.onesignal_id is assigned by OneSignal and cannot be set", envelope: .structured)
        }
        let user = try withApp(appID) { app throws(OneSignalError) in
            let userID = try writeTarget(&app, label: label, id: id)
            guard let user = try app.upsertAliases(aliases, userID: userID) else {
                throw OneSignalError.userNotFound(label: label, id: id)
            }
            return user
        }
        return OneSignalResponse.json(.ok, user.identityBody)
    }

    /// `DELETE …/identity/{label}`: `200` with the remaining aliases.
    func deleteAlias(_ request: Request, _ context: SandboxRequestContext) throws(OneSignalError) -> Response {
        let appID = try authorize(request, appID: parameter(context, "app_id"))
        let (label, id) = try alias(context)
        let doomed = parameter(context, "alias_label_to_delete")
        let user = try withApp(appID) { app throws(OneSignalError) in
            let userID = try writeTarget(&app, label: label, id: id)
            guard let user = try app.deleteAlias(label: doomed, userID: userID) else {
                throw OneSignalError.userNotFound(label: label, id: id)
            }
            return user
        }
        return OneSignalResponse.json(.ok, user.identityBody)
    }

    // MARK: - Reading bodies

    /// The `alias_label` and `alias_id` path parameters; a `onesignal_id` must be a UUID.
    func alias(_ context: SandboxRequestContext) throws(OneSignalError) -> (label: String, id: String) {
        let label = parameter(context, "alias_label")
        let id = parameter(context, "alias_id")
        if label == "onesignal_id" { try Self.requireUUID(id, field: "onesignal_id") }
        return (label, id)
    }

    /// Throws `400 Invalid UUID` unless `value` is a UUID.
    static func requireUUID(_ value: String, field: String) throws(OneSignalError) {
        guard UUID(uuidString: value) != nil else { throw .invalidUUID(field: field, value: value) }
    }

    /// The tag patch and the other properties of a `properties` object (already checked against the schema).
    ///
    /// Tags (§5): `""` and `null` delete; strings are kept; numbers and booleans become text under
    /// `.coerceScalars` and are refused under `.stringsOnly`; arrays and objects are refused; at most 100 per request.
    func propertiesInput(_ value: JSONValue?) throws(OneSignalError) -> (tags: [String: String?], properties: [String: JSONValue]) {
        guard var properties = value?.objectValue else { return ([:], [:]) }
        let rawTags = properties.removeValue(forKey: "tags")?.objectValue ?? [:]
        if rawTags.count > 100 { throw .tooManyTagUpdates }
        var tags: [String: String?] = [:]
        for (key, raw) in rawTags {
            if let limit = configuration.maximumTagKeyLength, key.count > limit {
                throw .tagTooLong(key: key, what: "key", limit: limit)
            }
            let text: String?
            switch raw {
            case .null: text = nil
            case .string(let string): text = string.isEmpty ? nil : string
            case .int(let number) where configuration.tagValuePolicy == .coerceScalars: text = String(number)
            case .double(let number) where configuration.tagValuePolicy == .coerceScalars:
                text = number.rounded() == number && abs(number) < 1e15 ? String(Int64(number)) : String(number)
            case .bool(let flag) where configuration.tagValuePolicy == .coerceScalars: text = flag ? "true" : "false"
            default: throw .tagValueNotString(key: key, value: raw)
            }
            if let text, let limit = configuration.maximumTagValueLength, text.count > limit {
                throw .tagTooLong(key: key, what: "value", limit: limit)
            }
            tags[key] = .some(text)
        }
        return (tags, properties)
    }

    /// Why OneSignal refuses `token` for a subscription of `type`: an SMS number must be in E.164 form (`+`, then
    /// up to 15 digits; docs "Subscriptions", phone number), an email must be an address; `nil` when it is accepted.
    static func tokenProblem(type: String?, token: String) -> String? {
        switch type {
        case "SMS":
            let digits = token.dropFirst()
            let valid = token.first == "+" && (7...15).contains(digits.count) && digits.first != "0"
                && digits.allSatisfy { $0.isASCII && $0.isNumber }
            return valid ? nil : "'\(token)' is not a phone number in E.164 format (e.g. +15555550123)"
        case "Email":
            let parts = token.split(separator: "@", omittingEmptySubsequences: false)
            let valid = parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".") && !token.contains(" ")
            return valid ? nil : "'\(token)' is not an email address"
        default:
            return nil
        }
    }

    /// A subscription object of a body (already checked against the schema); `field` names it in errors.
    /// `requireType`: whether `type` must be present (creating), or may be left out (updating).
    func subscriptionInput(
        _ value: JSONValue, field: String, requireType: Bool = true
    ) throws(OneSignalError) -> OneSignalAppState.SubscriptionInput {
        guard var members = value.objectValue else {
            throw .invalidRequest("\(field) must be an object", envelope: .structured)
        }
        let id = members.removeValue(forKey: "id")?.stringValue
        if let id { try Self.requireUUID(id, field: "subscription_id") }
        let type = members.removeValue(forKey: "type")?.stringValue
        if requireType, type == nil {
            throw .invalidRequest("\(field).type is required", envelope: .structured)
        }
        let token = members.removeValue(forKey: "token")?.stringValue
        if let token, let problem = Self.tokenProblem(type: type, token: token) {
            throw .invalidRequest("\(field).token: \(problem)", envelope: .structured)
        }
        var enabled: Bool?
        if case .bool(let flag)? = members.removeValue(forKey: "enabled") { enabled = flag }
        var notificationTypes: Int?
        if case .int(let types)? = members.removeValue(forKey: "notification_types") { notificationTypes = Int(types) }
        return .init(id: id, type: type, token: token, enabled: enabled, notificationTypes: notificationTypes, details: members)
    }
}
