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

    let intake: EventIntake
    let secret: String?

    /// - Parameter secret: the shared secret; `nil` refuses every request.
    public init(store: EventStore, secret: String?) {
        self.intake = EventIntake(store: store)
        self.secret = secret?.isEmpty == true ? nil : secret
    }

    public func register<Context: RequestContext>(on router: Router<Context>) {
        router.post("webhooks/onesignal") { request, context in
            await handle(request, context: context)
        }
    }

    struct Accepted: Encodable {
        var success = true
    }

    func handle(_ request: Request, context: some RequestContext) async -> Response {
        let receivedAt = Date()
        guard let secret else {
            return JSONResponse.error(
                IngestionError(status: 401, code: "unauthorized", message: "OneSignal events are refused: ONESIGNAL_WEBHOOK_SECRET is not configured"))
        }
        guard let authorization = request.headers[.authorization], authorization.lowercased().hasPrefix("bearer "),
            constantTimeEquals(String(authorization.dropFirst(7)).trimmingCharacters(in: .whitespaces), secret)
        else {
            return JSONResponse.error(
                IngestionError(status: 401, code: "unauthorized", message: "send the event stream's secret as Authorization: Bearer <secret>"))
        }
        do {
            let json = try await RequestBody.json(request, limit: Self.maximumBytes)
            let event = try OneSignalEventParser.parse(json, receivedAt: receivedAt)
            let metadata = EventIntake.metadata(["requestID": context.id, "endpoint": Self.path])
            let events = try EventIntake.newEvents([event], source: .onesignal, metadata: metadata)
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
