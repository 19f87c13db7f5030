import EventStore
import Foundation
import HTTPTypes
import Hummingbird
import Ingestion
import Logging

/// OneSignal Event Stream deliveries (`POST /webhooks/onesignal`): one message event per request (sent, delivered,
/// clicked, failed, …), authenticated by `Authorization: Bearer <ONESIGNAL_WEBHOOK_SECRET>` (OneSignal sends the
/// static header configured on the stream; it has no signatures), deduplicated on the event's id.
public struct OneSignalController: Sendable {
    static let maximumBytes = 64 * 1024
    static let path = "/webhooks/onesignal"

    /// A configured app's stream: deliveries naming `appID` must carry `secret`.
    public struct App: Sendable {
        public var name: String
        public var appID: String
        /// `nil`: the shared secret.
        public var secret: String?
        public init(name: String, appID: String, secret: String?) {
            self.name = name
            self.appID = appID.lowercased()
            self.secret = secret?.isEmpty == true ? nil : secret
        }
    }

    let intake: EventIntake
    let secret: String?
    let apps: [App]

    /// - Parameters:
    ///   - secret: the shared secret (`ONESIGNAL_WEBHOOK_SECRET`): of every app without its own, or of any delivery
    ///     when no app is configured; `nil` and no app secrets refuses every request.
    ///   - apps: the configured apps. With apps, a delivery is matched to its app by `app_id` and must carry that app's
    ///     secret; a delivery for an app that is not configured is refused (`403 unknown_app`) and recorded in
    ///     `rejections`.
    public init(store: EventStore, secret: String?, apps: [App] = []) {
        self.intake = EventIntake(store: store)
        self.secret = secret?.isEmpty == true ? nil : secret
        self.apps = apps
    }

    public func register<Context: RequestContext>(on router: Router<Context>) {
        router.post("webhooks/onesignal") { request, context in
            await handle(request, context: context)
        }
    }

    struct Accepted: Encodable {
        var success = true
    }

    /// Every secret a delivery may carry.
    var secrets: [String] { (apps.compactMap(\.secret) + [secret].compactMap { $0 }) }

    func handle(_ request: Request, context: some RequestContext) async -> Response {
        let receivedAt = Date()
        guard !secrets.isEmpty else {
            return JSONResponse.error(
                IngestionError(status: 401, code: "unauthorized", message: "OneSignal events are refused: ONESIGNAL_WEBHOOK_SECRET is not configured"))
        }
        // Any configured secret gets the body read; which one the delivery needs depends on its app.
        guard let authorization = request.headers[.authorization], authorization.lowercased().hasPrefix("bearer "),
            case let presented = String(authorization.dropFirst(7)).trimmingCharacters(in: .whitespaces),
            secrets.contains(where: { constantTimeEquals(presented, $0) })
        else {
            return JSONResponse.error(
                IngestionError(status: 401, code: "unauthorized", message: "send the event stream's secret as Authorization: Bearer <secret>"))
        }
        do {
            let json = try await RequestBody.json(request, limit: Self.maximumBytes)
            let event = try OneSignalEventParser.parse(json, receivedAt: receivedAt)
            var metadata: [String: String] = ["requestID": context.id, "endpoint": Self.path]
            if !apps.isEmpty {
                let appID = json.objectValue.flatMap { OneSignalEventParser.field($0, "app_id", "event.app_id")?.stringValue }?.lowercased()
                guard let appID, let app = apps.first(where: { $0.appID == appID }) else {
                    let reason = "the event names no configured OneSignal app (app_id \(appID ?? "missing")); add the app to HUBSIGNAL_CONFIG"
                    let rejection = RejectedMessage(index: 0, messageId: event.idempotencyKey, reason: reason, message: json)
                    _ = try? await intake.store(
                        [], rejected: [rejection], source: .onesignal, endpoint: Self.path, writeKeyID: nil, requestID: context.id)
                    return JSONResponse.error(IngestionError(status: 403, code: "unknown_app", message: reason))
                }
                guard let expected = app.secret ?? secret, constantTimeEquals(presented, expected) else {
                    return JSONResponse.error(
                        IngestionError(
                            status: 401, code: "unauthorized",
                            message: "the secret is not the one of OneSignal app '\(app.name)'; send that app's stream secret"))
                }
                metadata["app"] = app.name
            }
            let events = try EventIntake.newEvents([event], source: .onesignal, metadata: EventIntake.metadata(metadata))
            do {
                try await intake.store(events, rejected: [], source: .onesignal, endpoint: Self.path, writeKeyID: nil, requestID: context.id)
            } catch {
                context.logger.error("storing a OneSignal event failed", metadata: ["error": "\(error)"])
                return JSONResponse.storageFailure(error)
            }
            return JSONResponse.make(status: .ok, body: Accepted())
        } catch let error as IngestionError {
            return JSONResponse.error(error)
        } catch {
            return JSONResponse.error(IngestionError(status: 400, code: "invalid_body", message: "the body could not be read"))
        }
    }
}
