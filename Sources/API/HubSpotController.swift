import Domain
import EventStore
import Foundation
import HTTPTypes
import Hummingbird
import Ingestion
import Logging
import PQ

/// HubSpot's calls into HubSignal: webhook v3 deliveries (`POST /webhooks/hubspot`) and the two custom workflow
/// actions (`POST /hubspot/actions/send-notification`, `POST /hubspot/actions/edit-tags`).
///
/// Every request must carry a valid signature made with `HUBSPOT_CLIENT_SECRET`: webhooks v3 (timestamp at most 5
/// minutes old), workflow actions v3 when its headers are present, else v2. The signed URI is `HUBSIGNAL_PUBLIC_URL`
/// plus the request's path and query, never anything taken from request headers (`Host`, `X-Forwarded-*`): without a
/// public URL every request is refused (`401`).
///
/// A public app's secret signs the requests of every portal that installs the app, so a signed request must also come
/// from the configured portal (`HUBSPOT_PORTAL_ID`, else the one an OAuth install bound), else it is refused (`403
/// foreign_portal`, recorded in `rejections`): a workflow action by its `origin.portalId`; a webhook delivery event by
/// event (each event naming another portal, or none, is refused and recorded, the others are stored; a delivery none
/// of whose events is stored and one of which names another portal is answered `403`). Without a configured or
/// installed portal every signed request is refused that way.
public struct HubSpotController: Sendable {
    /// Webhook deliveries hold up to 100 events.
    static let maximumWebhookBytes = 1024 * 1024
    /// A workflow action request is one small object.
    static let maximumActionBytes = 256 * 1024

    let intake: EventIntake
    let clientSecret: String?
    let publicURL: String?
    let portalID: String?
    /// The portal an OAuth install bound, when no `portalID` is configured.
    let portalBinding: HubSpotPortalBinding?
    let completesNotificationsLater: Bool
    let oneSignalApps: [String]

    /// - Parameters:
    ///   - clientSecret: the HubSpot app's client secret; `nil` refuses every request.
    ///   - publicURL: the external base URL HubSpot calls (e.g. `https://hubsignal.example.com`), which its signatures
    ///     cover; `nil` refuses every request.
    ///   - portalID: the HubSpot account (Hub ID) whose requests are accepted; `nil` refuses every request.
    ///   - completesNotificationsLater: whether the OneSignal sync completes workflow actions through HubSpot's
    ///     callback API (it has HubSpot credentials): both actions then answer `BLOCK` and the workflow waits for the
    ///     real outcome (the notification's id, the tags applied, or `FAIL_CONTINUE` with the reason); otherwise
    ///     `SUCCESS` as soon as the action is recorded.
    ///   - oneSignalApps: the configured OneSignal app names; an action whose `app` input names another fails with the
    ///     list (empty: any name passes).
    ///   - portalBinding: the portal an OAuth install bound, accepted when `portalID` is `nil`.
    public init(
        store: EventStore, clientSecret: String?, publicURL: String?, portalID: String?, completesNotificationsLater: Bool = false,
        oneSignalApps: [String] = [], portalBinding: HubSpotPortalBinding? = nil
    ) {
        self.portalBinding = portalBinding
        self.intake = EventIntake(store: store)
        self.completesNotificationsLater = completesNotificationsLater
        self.oneSignalApps = oneSignalApps
        self.clientSecret = clientSecret?.isEmpty == true ? nil : clientSecret
        self.publicURL = publicURL.flatMap { $0.isEmpty ? nil : $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.portalID = portalID?.isEmpty == true ? nil : portalID
    }

    /// The portal whose requests are accepted: the configured one, else the one an OAuth install bound.
    func acceptedPortalID() async -> String? {
        if let portalID { return portalID }
        return await portalBinding?.portalID()
    }

    /// Adds the routes to `router`.
    public func register<Context: RequestContext>(on router: Router<Context>) {
        router.post("webhooks/hubspot") { request, context in
            await webhook(request, context: context)
        }
        for action in HubSpotWorkflowAction.allCases {
            router.post(RouterPath(stringLiteral: String(action.path.dropFirst()))) { request, context in
                await workflowAction(action, request, context: context)
            }
        }
    }

    struct Accepted: Encodable {
        var success = true
        var rejected: [RejectedMessage]?
    }

    /// The body HubSpot expects from a workflow action (`outputFields` with `hs_execution_state`):
    /// - `SUCCESS`: recorded, and HubSignal carries it out (without HubSpot credentials, which completing needs);
    /// - `BLOCK` (with `hs_expiration_duration` one day): the workflow waits until HubSignal completes the action with
    ///   its outcome once OneSignal answered (the notification's id; the tags applied to that user of that app; or
    ///   `FAIL_CONTINUE` with the reason, e.g. a contact that matches no OneSignal user);
    /// - `FAIL_CONTINUE` with `error_message`: the workflow's inputs are wrong (nothing stored but a rejection).
    struct ActionResponse: Encodable {
        var outputFields: [String: String]

        static let success = ActionResponse(outputFields: ["hs_execution_state": "SUCCESS"])
        static let block = ActionResponse(outputFields: ["hs_execution_state": "BLOCK", "hs_expiration_duration": "P1D"])
        static func failure(_ message: String) -> ActionResponse {
            ActionResponse(outputFields: ["hs_execution_state": "FAIL_CONTINUE", "error_message": message])
        }
    }

    func webhook(_ request: Request, context: some RequestContext) async -> Response {
        let path = "/webhooks/hubspot"
        do {
            let (body, version) = try await verifiedBody(request, limit: Self.maximumWebhookBytes, allowV2: false, context: context)
            var parsed = try HubSpotWebhookParser.parse(try Self.json(body))
            let portalID = await acceptedPortalID()
            if let refusal = parsed.refuseOtherPortals(than: portalID), parsed.accepted.isEmpty {
                return await refuseForeignPortal(parsed.rejected, reason: refusal, endpoint: path, context: context)
            }
            let metadata = EventIntake.metadata(["requestID": context.id, "endpoint": path, "signatureVersion": version])
            let events = try EventIntake.newEvents(parsed.accepted, source: .hubspot, metadata: metadata)
            do {
                try await intake.store(
                    events, rejected: parsed.rejected, source: .hubspot, endpoint: path, writeKeyID: nil, requestID: context.id)
            } catch {
                context.logger.error("storing a HubSpot webhook delivery failed", metadata: ["error": "\(error)"])
                return JSONResponse.storageFailure(error)
            }
            return JSONResponse.make(status: .ok, body: Accepted(rejected: parsed.rejected.isEmpty ? nil : parsed.rejected))
        } catch let error as IngestionError {
            return JSONResponse.error(error)
        } catch {
            return JSONResponse.error(IngestionError(status: 400, code: "invalid_body", message: "the body could not be read"))
        }
    }

    func workflowAction(_ action: HubSpotWorkflowAction, _ request: Request, context: some RequestContext) async -> Response {
        let receivedAt = Date()
        do {
            let (body, version) = try await verifiedBody(request, limit: Self.maximumActionBytes, allowV2: true, context: context)
            let json = try Self.json(body)
            // A body that is no JSON object is no workflow action at all: `parse` answers 400 for it.
            let portalID = await acceptedPortalID()
            if json.objectValue != nil, let refusal = HubSpotPortal.refusal(sent: json["origin"]?["portalId"], configured: portalID) {
                let rejection = RejectedMessage(index: 0, messageId: json["callbackId"]?.stringValue, reason: refusal, message: json)
                return await refuseForeignPortal([rejection], reason: refusal, endpoint: action.path, context: context)
            }
            var (parsed, mistake) = Self.parse(action, json, receivedAt: receivedAt)
            let inputs = json["inputFields"]?.objectValue ?? json["fields"]?.objectValue
            if parsed != nil, !oneSignalApps.isEmpty, let app = inputs?["app"]?.stringValue?.trimmingCharacters(in: .whitespaces),
                !app.isEmpty, !oneSignalApps.contains(app)
            {
                parsed = nil
                mistake = IngestionError(
                    status: 400, code: "invalid_action",
                    message: "\"app\" names no configured OneSignal app: '\(app)'; use one of \(oneSignalApps.joined(separator: ", "))")
            }
            if let mistake, mistake.code != "invalid_action" { throw mistake }
            guard let event = parsed else {
                let error = mistake ?? IngestionError(status: 400, code: "invalid_action", message: "the action could not be read")
                // A mistake in the workflow's inputs: HubSpot shows the message on the enrollment and the workflow goes
                // on; retrying would not help. Recorded as a rejection.
                let rejection = RejectedMessage(index: 0, messageId: json["callbackId"]?.stringValue, reason: error.message, message: json)
                do {
                    _ = try await intake.store(
                        [], rejected: [rejection], source: .hubspot, endpoint: action.path, writeKeyID: nil, requestID: context.id)
                } catch {
                    context.logger.error("storing a rejected HubSpot workflow action failed", metadata: ["error": "\(error)"])
                    return JSONResponse.storageFailure(error)
                }
                return JSONResponse.make(status: .ok, body: ActionResponse.failure(error.message))
            }
            let metadata = EventIntake.metadata(["requestID": context.id, "endpoint": action.path, "signatureVersion": version])
            let events = try EventIntake.newEvents([event], source: .hubspot, metadata: metadata)
            do {
                try await intake.store(events, rejected: [], source: .hubspot, endpoint: action.path, writeKeyID: nil, requestID: context.id)
            } catch {
                context.logger.error("storing a HubSpot workflow action failed", metadata: ["error": "\(error)"])
                return JSONResponse.storageFailure(error)
            }
            let answer = completesNotificationsLater ? ActionResponse.block : .success
            return JSONResponse.make(status: .ok, body: answer)
        } catch let error as IngestionError {
            return JSONResponse.error(error)
        } catch {
            return JSONResponse.error(IngestionError(status: 400, code: "invalid_body", message: "the body could not be read"))
        }
    }

    /// Records `rejected` (a request of another portal than the configured one) and answers `403 foreign_portal`.
    func refuseForeignPortal(
        _ rejected: [RejectedMessage], reason: String, endpoint: String, context: some RequestContext
    ) async -> Response {
        context.logger.info("refused a signed HubSpot request of another portal", metadata: ["reason": "\(reason)"])
        do {
            try await intake.store([], rejected: rejected, source: .hubspot, endpoint: endpoint, writeKeyID: nil, requestID: context.id)
        } catch {
            // Nothing of this request would be stored anyway: the refusal stands.
            context.logger.error("recording a HubSpot request of another portal failed", metadata: ["error": "\(error)"])
        }
        return JSONResponse.error(IngestionError(status: 403, code: "foreign_portal", message: reason))
    }

    /// The action's event, or the ingestion error that refused it.
    static func parse(_ action: HubSpotWorkflowAction, _ json: JSONValue, receivedAt: Date) -> (InboundEvent?, IngestionError?) {
        do {
            return (try action.parse(json, receivedAt: receivedAt), nil)
        } catch {
            return (nil, error)
        }
    }

    /// Reads the body and verifies its signature; returns the raw body and the signature version.
    func verifiedBody(_ request: Request, limit: Int, allowV2: Bool, context: some RequestContext) async throws -> ([UInt8], String) {
        guard let clientSecret else {
            throw IngestionError(
                status: 401, code: "unauthorized", message: "HubSpot requests are refused: HUBSPOT_CLIENT_SECRET is not configured")
        }
        guard let publicURL else {
            throw IngestionError(
                status: 401, code: "unauthorized",
                message: "HubSpot requests are refused: HUBSIGNAL_PUBLIC_URL (the URL HubSpot's signatures cover) is not configured")
        }
        // The signature covers the bytes as sent, and HubSpot never compresses them: a compressed body is refused
        // before anything is decompressed.
        if let encoding = request.headers[.contentEncoding]?.lowercased().trimmingCharacters(in: .whitespaces),
            !encoding.isEmpty, encoding != "identity"
        {
            throw IngestionError(
                status: 415, code: "unsupported_encoding",
                message: "Content-Encoding \(encoding.prefix(64)) is not supported: HubSpot requests are signed and sent uncompressed")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch {
            throw IngestionError(
                status: 400, code: "request_too_large",
                message: "the request body is over the limit of \(limit) bytes (\(limit / 1024) KB) per request")
        }
        let body = Array(buffer.readableBytesView)
        let headers = HubSpotSignature.Headers(
            signatureV3: request.headers[Self.signatureV3], timestamp: request.headers[Self.timestamp],
            signature: request.headers[Self.signature], version: request.headers[Self.signatureVersion])
        do {
            let version = try HubSpotSignature.verify(
                headers: headers, secret: clientSecret, method: request.method.rawValue, uri: publicURL + (request.head.path ?? "/"), body: body,
                allowV2: allowV2)
            return (body, version)
        } catch {
            context.logger.info("refused a HubSpot request with a bad signature", metadata: ["reason": "\(error)"])
            throw IngestionError(status: 401, code: "invalid_signature", message: error.description)
        }
    }

    static func json(_ body: [UInt8]) throws(IngestionError) -> JSONValue {
        do {
            return try JSONValue.parse(body)
        } catch {
            throw IngestionError(status: 400, code: "invalid_json", message: "the body is not valid JSON: \(error)")
        }
    }

    static let signatureV3 = HTTPField.Name("X-HubSpot-Signature-v3")!
    static let timestamp = HTTPField.Name("X-HubSpot-Request-Timestamp")!
    static let signature = HTTPField.Name("X-HubSpot-Signature")!
    static let signatureVersion = HTTPField.Name("X-HubSpot-Signature-Version")!
}
