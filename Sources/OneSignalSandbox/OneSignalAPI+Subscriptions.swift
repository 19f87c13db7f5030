import Foundation
import HTTPTypes
import Hummingbird
import SandboxKit

/// Subscriptions: create under a user, update, delete, transfer, and aliases by subscription (§2, §2.4).
extension OneSignalAPI {
    func registerSubscriptionRoutes(on router: Router<SandboxRequestContext>) {
        router.post("apps/:app_id/users/by/:alias_label/:alias_id/subscriptions") { request, context in
            await self.answer { () async throws(OneSignalError) in try await self.createSubscription(request, context) }
        }
        router.patch("apps/:app_id/subscriptions/:subscription_id") { request, context in
            await self.answer { () async throws(OneSignalError) in try await self.updateSubscription(request, context) }
        }
        router.delete("apps/:app_id/subscriptions/:subscription_id") { request, context in
            await self.answer { () async throws(OneSignalError) in try self.deleteSubscription(request, context) }
        }
        router.get("apps/:app_id/subscriptions/:subscription_id/user/identity") { request, context in
            await self.answer { () async throws(OneSignalError) in try self.aliasesBySubscription(request, context) }
        }
        router.patch("apps/:app_id/subscriptions/:subscription_id/user/identity") { request, context in
            await self.answer { () async throws(OneSignalError) in try await self.upsertAliasesBySubscription(request, context) }
        }
        router.patch("apps/:app_id/subscriptions/:subscription_id/owner") { request, context in
            await self.answer { () async throws(OneSignalError) in try await self.transferSubscription(request, context) }
        }
        router.patch("apps/:app_id/subscriptions_by_token/:token_type/:token") { request, context in
            await self.answer { () async throws(OneSignalError) in try await self.updateSubscriptionByToken(request, context) }
        }
    }

    /// `POST …/users/by/{label}/{id}/subscriptions`: `201` created, `202` an existing one moved to this user.
    func createSubscription(_ request: Request, _ context: SandboxRequestContext) async throws(OneSignalError) -> Response {
        let appID = try authorize(request, appID: parameter(context, "app_id"))
        let (label, id) = try alias(context)
        let body = try await jsonObject(request, envelope: .structured)
        try validate(body, against: OneSignalSchemas.subscriptionBody, envelope: .structured)
        guard let member = body["subscription"] else {
            throw .invalidRequest("subscription is required", envelope: .structured)
        }
        let input = try subscriptionInput(member, field: "subscription")
        let (created, subscription) = try withApp(appID) { app throws(OneSignalError) in
            let userID = try writeTarget(&app, label: label, id: id)
            return try app.attachSubscription(input, to: userID)
        }
        return OneSignalResponse.json(
            created ? .created : .accepted, .object(["subscription": subscription.json(appID: appID)]))
    }

    /// `PATCH /apps/{app_id}/subscriptions/{id}`: `200` without a body (spec).
    func updateSubscription(_ request: Request, _ context: SandboxRequestContext) async throws(OneSignalError) -> Response {
        let appID = try authorize(request, appID: parameter(context, "app_id"))
        let subscriptionID = try subscriptionParameter(context)
        let input = try await subscriptionPatch(request)
        try withApp(appID) { app throws(OneSignalError) in
            try Self.rateLimit(
                &app, .write("subscription:" + subscriptionID), limit: configuration.rateLimits.userWritesPerSecond,
                envelope: .structured)
            guard app.updateSubscription(id: subscriptionID, with: input) != nil else {
                throw OneSignalError.subscriptionNotFound
            }
        }
        return OneSignalResponse.empty(.ok)
    }

    /// `PATCH /apps/{app_id}/subscriptions_by_token/{type}/{token}`: `202 {}`.
    func updateSubscriptionByToken(_ request: Request, _ context: SandboxRequestContext) async throws(OneSignalError) -> Response {
        let appID = try authorize(request, appID: parameter(context, "app_id"))
        let type = parameter(context, "token_type")
        let token = parameter(context, "token")
        let input = try await subscriptionPatch(request)
        try withApp(appID) { app throws(OneSignalError) in
            guard let (subscription, _) = app.subscription(type: type, token: token) else {
                throw OneSignalError.subscriptionNotFound
            }
            try Self.rateLimit(
                &app, .write("subscription:" + subscription.id), limit: configuration.rateLimits.userWritesPerSecond,
                envelope: .structured)
            _ = app.updateSubscription(id: subscription.id, with: input)
        }
        return OneSignalResponse.json(.accepted, .object([:]))
    }

    /// `DELETE /apps/{app_id}/subscriptions/{id}`: `202` without a body.
    func deleteSubscription(_ request: Request, _ context: SandboxRequestContext) throws(OneSignalError) -> Response {
        let appID = try authorize(request, appID: parameter(context, "app_id"))
        let subscriptionID = try subscriptionParameter(context)
        try withApp(appID) { app throws(OneSignalError) in
            try Self.rateLimit(
                &app, .write("subscription:" + subscriptionID), limit: configuration.rateLimits.userWritesPerSecond,
                envelope: .structured)
            guard app.deleteSubscription(id: subscriptionID) else { throw OneSignalError.subscriptionNotFound }
        }
        return OneSignalResponse.empty(.accepted)
    }

    /// `GET /apps/{app_id}/subscriptions/{id}/user/identity`: the owner's aliases.
    func aliasesBySubscription(_ request: Request, _ context: SandboxRequestContext) throws(OneSignalError) -> Response {
        let appID = try authorize(request, appID: parameter(context, "app_id"))
        let subscriptionID = try subscriptionParameter(context)
        let user = try withApp(appID) { app throws(OneSignalError) in
            try Self.rateLimit(&app, .view, limit: configuration.rateLimits.viewsPerSecond, envelope: .structured)
            guard let owner = app.owner(ofSubscription: subscriptionID) else { throw OneSignalError.subscriptionNotFound }
            return owner
        }
        return OneSignalResponse.json(.ok, user.identityBody)
    }

    /// `PATCH /apps/{app_id}/subscriptions/{id}/user/identity`: adds aliases to the owner; `200` with all of them.
    func upsertAliasesBySubscription(_ request: Request, _ context: SandboxRequestContext) async throws(OneSignalError) -> Response {
        let appID = try authorize(request, appID: parameter(context, "app_id"))
        let subscriptionID = try subscriptionParameter(context)
        let body = try await jsonObject(request, envelope: .structured)
        try validate(body, against: OneSignalSchemas.userIdentityBody, envelope: .structured)
        guard let aliases = body["identity"]?.objectValue?.compactMapValues(\.stringValue), !aliases.isEmpty,
            aliases["onesignal_id"] == nil
        else {
            throw .invalidRequest("identity must name at least one alias other than onesignal_id", envelope: .structured)
        }
        let user = try withApp(appID) { app throws(OneSignalError) in
            guard let owner = app.owner(ofSubscription: subscriptionID) else { throw OneSignalError.subscriptionNotFound }
            try Self.rateLimit(
                &app, .write("user:" + owner.onesignalID), limit: configuration.rateLimits.userWritesPerSecond,
                envelope: .structured)
            guard let user = try app.upsertAliases(aliases, userID: owner.onesignalID) else {
                throw OneSignalError.subscriptionNotFound
            }
            return user
        }
        return OneSignalResponse.json(.ok, user.identityBody)
    }

    /// `PATCH /apps/{app_id}/subscriptions/{id}/owner` with exactly one alias: `200` with the new owner's aliases.
    func transferSubscription(_ request: Request, _ context: SandboxRequestContext) async throws(OneSignalError) -> Response {
        let appID = try authorize(request, appID: parameter(context, "app_id"))
        let subscriptionID = try subscriptionParameter(context)
        let body = try await jsonObject(request, envelope: .structured)
        try validate(body, against: OneSignalSchemas.transferSubscriptionRequestBody, envelope: .structured)
        guard let (label, id) = body["identity"]?.objectValue?.compactMapValues(\.stringValue).first else {
            throw .invalidRequest("identity is required and must name exactly one alias", envelope: .structured)
        }
        let user = try withApp(appID) { app throws(OneSignalError) in
            try Self.rateLimit(
                &app, .write("subscription:" + subscriptionID), limit: configuration.rateLimits.userWritesPerSecond,
                envelope: .structured)
            guard let ownerID = app.userID(label: label, id: id) else { throw OneSignalError.userNotFound(label: label, id: id) }
            guard let owner = try app.transferSubscription(id: subscriptionID, to: ownerID) else {
                throw OneSignalError.subscriptionNotFound
            }
            return owner
        }
        return OneSignalResponse.json(.ok, user.identityBody)
    }

    // MARK: - Helpers

    private func subscriptionParameter(_ context: SandboxRequestContext) throws(OneSignalError) -> String {
        let id = parameter(context, "subscription_id").lowercased()
        try Self.requireUUID(id, field: "subscription_id")
        return id
    }

    /// Reads a `{"subscription": {…}}` patch: the members it changes (`id` is ignored, `type` optional).
    private func subscriptionPatch(_ request: Request) async throws(OneSignalError) -> OneSignalAppState.SubscriptionInput {
        let body = try await jsonObject(request, envelope: .structured)
        try validate(body, against: OneSignalSchemas.subscriptionBody, envelope: .structured)
        guard var members = body["subscription"]?.objectValue else {
            throw .invalidRequest("subscription is required", envelope: .structured)
        }
        members.removeValue(forKey: "id")
        return try subscriptionInput(.object(members), field: "subscription", requireType: false)
    }
}
