import Domain
import Foundation
import HTTPTypes
import Hummingbird
import SandboxKit

/// Create, view and cancel notifications (§4, §7).
extension OneSignalAPI {
    /// The body a send with no reachable recipient answers with, still `200` (§4.3).
    static let noRecipientsBody: JSONValue = .object([
        "id": .string(""), "errors": .array([.string("All included players are not subscribed")]),
    ])

    func registerNotificationRoutes(on router: Router<SandboxRequestContext>) {
        router.post("notifications") { request, context in
            await self.answer { () async throws(OneSignalError) in try await self.createNotification(request, context) }
        }
        router.get("notifications") { request, context in
            await self.answer { () async throws(OneSignalError) in try self.viewNotifications(request, context) }
        }
        router.get("notifications/:notification_id") { request, context in
            await self.answer { () async throws(OneSignalError) in try self.viewNotification(request, context) }
        }
        router.delete("notifications/:notification_id") { request, context in
            await self.answer { () async throws(OneSignalError) in try self.cancelNotification(request, context) }
        }
    }

    /// `POST /notifications`: `200 {"id", "external_id"}` (plus `errors.invalid_aliases`), `200 {"id": ""}` when
    /// nobody is reachable, the original answer with `Idempotent-Replayed: true` for a known idempotency key.
    func createNotification(_ request: Request, _ context: SandboxRequestContext) async throws(OneSignalError) -> Response {
        _ = try authenticate(request)
        // Without a JSON content type OneSignal does not read the body, so it finds no app_id (§4: the real message).
        guard request.headers[.contentType]?.lowercased().contains("json") == true else { throw .appNotFound }
        let body = try await jsonObject(request, envelope: .basic)
        let appID = try authorize(request, appID: body["app_id"]?.stringValue)
        try validate(body, against: OneSignalSchemas.notification, envelope: .basic)
        let send = try NotificationRequest(body: body, maximumRecipients: configuration.maximumRecipientsPerRequest)
        let window = configuration.idempotencyWindow
        let (answer, replayed, notification) = try withApp(appID) { app throws(OneSignalError) in
            try Self.rateLimit(&app, .notification, limit: configuration.rateLimits.notificationsPerSecond, envelope: .basic)
            let now = ContinuousClock.now
            if let key = send.idempotencyKey, let stored = app.idempotency[key], stored.storedAt + window > now {
                return (stored.body, true, OneSignalNotification?.none)
            }
            let resolution = try app.resolve(send)
            try send.checkContent(channel: resolution.channel)
            var answer = Self.noRecipientsBody
            var created: OneSignalNotification?
            if !resolution.recipients.isEmpty {
                let notification = OneSignalNotification(
                    id: UUID().uuidString.lowercased(), appID: appID, channel: resolution.channel,
                    recipients: resolution.recipients, idempotencyKey: send.idempotencyKey, queuedAt: Date(), request: body,
                    canceled: false)
                app.notifications.append(notification)
                created = notification
                var members: [String: JSONValue] = [
                    "id": .string(notification.id), "external_id": send.idempotencyKey.map { .string($0) } ?? .null,
                ]
                if !resolution.invalidAliases.isEmpty {
                    members["errors"] = .object([
                        "invalid_aliases": .object(resolution.invalidAliases.mapValues { .array($0.map { .string($0) }) })
                    ])
                }
                answer = .object(members)
            }
            if let key = send.idempotencyKey {
                if app.idempotency.count % 1_024 == 1_023 {
                    app.idempotency = app.idempotency.filter { $0.value.storedAt + window > now }
                }
                app.idempotency[key] = .init(body: answer, storedAt: now)
            }
            return (answer, false, created)
        }
        if let notification, let stream = configuration.messageEvents {
            let emitter = self.emitter
            Task {
                await emitter.emitAutomatically(for: notification, stream: stream)
            }
        }
        return OneSignalResponse.json(.ok, answer, headers: replayed ? [Self.idempotentReplayed: "true"] : [:])
    }

    /// `GET /notifications?app_id=&limit=&offset=`: newest first, at most 50 per page (`NotificationSlice`).
    func viewNotifications(_ request: Request, _ context: SandboxRequestContext) throws(OneSignalError) -> Response {
        let query = request.uri.queryParameters
        let appID = try authorize(request, appID: query["app_id"].map(String.init))
        let limit = try integer(query["limit"].map(String.init), name: "limit") ?? 50
        let offset = try integer(query["offset"].map(String.init), name: "offset") ?? 0
        guard (1...50).contains(limit) else { throw .invalidRequest("limit must be between 1 and 50", envelope: .basic) }
        guard offset >= 0 else { throw .invalidRequest("offset must not be negative", envelope: .basic) }
        let notifications = try withApp(appID) { app throws(OneSignalError) in
            try Self.rateLimit(&app, .view, limit: configuration.rateLimits.viewsPerSecond, envelope: .basic)
            return app.notifications
        }
        let page = notifications.reversed().dropFirst(offset).prefix(limit)
        return OneSignalResponse.json(
            .ok,
            .object([
                "total_count": .int(Int64(notifications.count)), "offset": .int(Int64(offset)), "limit": .int(Int64(limit)),
                "notifications": .array(page.map(\.json)),
            ]))
    }

    /// `GET /notifications/{id}?app_id=`: `NotificationWithMeta`, or `404 {"errors": ["Notification not found"]}`.
    func viewNotification(_ request: Request, _ context: SandboxRequestContext) throws(OneSignalError) -> Response {
        let appID = try authorize(request, appID: request.uri.queryParameters["app_id"].map(String.init))
        let id = parameter(context, "notification_id").lowercased()
        let notification = try withApp(appID) { app throws(OneSignalError) in
            try Self.rateLimit(&app, .view, limit: configuration.rateLimits.viewsPerSecond, envelope: .basic)
            guard let notification = app.notifications.first(where: { $0.id == id }) else {
                throw OneSignalError.notificationNotFound
            }
            return notification
        }
        return OneSignalResponse.json(.ok, notification.json)
    }

    /// `DELETE /notifications/{id}?app_id=`: marks it cancelled, `200 {"success": true}` (shares the create bucket).
    func cancelNotification(_ request: Request, _ context: SandboxRequestContext) throws(OneSignalError) -> Response {
        let appID = try authorize(request, appID: request.uri.queryParameters["app_id"].map(String.init))
        let id = parameter(context, "notification_id").lowercased()
        try withApp(appID) { app throws(OneSignalError) in
            try Self.rateLimit(&app, .notification, limit: configuration.rateLimits.notificationsPerSecond, envelope: .basic)
            guard let index = app.notifications.firstIndex(where: { $0.id == id }) else {
                throw OneSignalError.notificationNotFound
            }
            app.notifications[index].canceled = true
        }
        return OneSignalResponse.json(.ok, .object(["success": .bool(true)]))
    }

    /// The `Idempotent-Replayed` header (§4.4).
    static let idempotentReplayed = HTTPField.Name("Idempotent-Replayed")!

    private func integer(_ text: String?, name: String) throws(OneSignalError) -> Int? {
        guard let text else { return nil }
        guard let value = Int(text) else { throw .invalidRequest("\(name) must be an integer, not \"\(text)\"", envelope: .basic) }
        return value
    }
}
