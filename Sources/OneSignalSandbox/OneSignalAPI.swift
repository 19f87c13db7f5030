import Domain
import Foundation
import HTTPTypes
import Hummingbird
import SandboxKit
import Synchronization

/// The sandbox's request handlers and the state they share. The router holds this object, not the public
/// `OneSignalSandbox`, so that dropping a sandbox frees everything.
final class OneSignalAPI: Sendable {
    /// Bodies larger than this are refused.
    static let maximumBodySize = 1 << 20

    let configuration: OneSignalSandbox.Configuration
    let state: Mutex<OneSignalState>
    let emitter: MessageEventEmitter

    init(configuration: OneSignalSandbox.Configuration, emitter: MessageEventEmitter) {
        self.configuration = configuration
        self.state = Mutex(OneSignalState(configuration: configuration))
        self.emitter = emitter
    }

    /// Registers every route on `router`.
    func register(on router: Router<SandboxRequestContext>) {
        registerUserRoutes(on: router)
        registerSubscriptionRoutes(on: router)
        registerNotificationRoutes(on: router)
        registerSegmentRoutes(on: router)
        registerLegacyRoutes(on: router)
        registerTemplateRoutes(on: router)
    }

    /// Runs a handler and turns its `OneSignalError` into the error response, counting `429`s.
    func answer(_ handler: () async throws(OneSignalError) -> Response) async -> Response {
        do {
            return try await handler()
        } catch {
            if error.status == .tooManyRequests {
                state.withLock { $0.rateLimitedResponses += 1 }
            }
            return error.response
        }
    }

    // MARK: - Requests

    /// The id of the app whose key the `Authorization` header carries (§1): `Key <key>` (any case) or legacy
    /// `Basic <key>`. A missing header, another scheme or a key of no app is `403`.
    func authenticate(_ request: Request) throws(OneSignalError) -> String {
        guard let header = request.headers[.authorization] else { throw .accessDenied }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, ["key", "basic"].contains(parts[0].lowercased()) else { throw .accessDenied }
        let key = parts[1].trimmingCharacters(in: .whitespaces)
        guard let app = state.withLock({ $0.appID(forKey: key) }) else { throw .accessDenied }
        return app
    }

    /// Checks that the request's key is the key of app `appID` (see ``authenticate(_:)``). An absent or unknown app id
    /// with a valid key is `400 app_id not found`; a key of another app is `403`.
    ///
    /// - Returns: the app's id, lower case.
    func authorize(_ request: Request, appID: String?) throws(OneSignalError) -> String {
        let keyApp = try authenticate(request)
        guard let appID = appID?.lowercased(), state.withLock({ $0.apps[appID] != nil }) else { throw .appNotFound }
        guard keyApp == appID else { throw .accessDenied }
        return keyApp
    }

    /// The request body as a JSON object; `envelope` is the endpoint's error envelope.
    func jsonObject(_ request: Request, envelope: OneSignalError.Envelope) async throws(OneSignalError) -> [String: JSONValue] {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: Self.maximumBodySize)
        } catch {
            throw .invalidRequest("the body is larger than \(Self.maximumBodySize) bytes", envelope: envelope)
        }
        guard buffer.readableBytes > 0 else {
            throw .invalidRequest("the body is empty: send a JSON object", envelope: envelope)
        }
        let value: JSONValue
        do {
            value = try JSONValue.parse(buffer.readableBytesView)
        } catch {
            throw .invalidRequest("the body is not valid JSON", envelope: envelope)
        }
        guard case .object(let members) = value else {
            throw .invalidRequest("the body must be a JSON object, not \(SchemaValidator.typeName(value))", envelope: envelope)
        }
        return members
    }

    /// Checks `body` against `schema` (the OpenAPI document's), answering `400` naming the field.
    func validate(_ body: [String: JSONValue], against schema: Schema, envelope: OneSignalError.Envelope) throws(OneSignalError) {
        do {
            try SchemaValidator.validate(.object(body), against: schema)
        } catch {
            throw .invalidRequest(error.description, envelope: envelope)
        }
    }

    /// The path parameter `name`, percent-decoded.
    func parameter(_ context: SandboxRequestContext, _ name: String) -> String {
        let raw = context.parameters.get(name) ?? ""
        return raw.removingPercentEncoding ?? raw
    }

    /// Runs `body` on the state of app `appID` under the lock.
    func withApp<Result: Sendable>(
        _ appID: String, _ body: (inout OneSignalAppState) throws(OneSignalError) -> Result
    ) throws(OneSignalError) -> Result {
        try state.withLock { state throws(OneSignalError) -> Result in
            // Taken out of the dictionary while it changes, so that its storage is not copied.
            guard var app = state.apps.removeValue(forKey: appID) else { throw OneSignalError.appNotFound }
            defer { state.apps[appID] = app }
            return try body(&app)
        }
    }

    /// The user with alias `label` = `id` that a write addresses (`404` when there is none), with the write counted
    /// against that user's one-second window (`429` when over it). Writes to unknown users are not counted, so the
    /// documented fallback (update, `404`, create) is not limited.
    func writeTarget(
        _ app: inout OneSignalAppState, label: String, id: String, envelope: OneSignalError.Envelope = .structured
    ) throws(OneSignalError) -> String {
        guard let userID = app.userID(label: label, id: id) else { throw .userNotFound(label: label, id: id) }
        try Self.rateLimit(&app, .write("user:" + userID), limit: configuration.rateLimits.userWritesPerSecond, envelope: envelope)
        return userID
    }

    /// Counts a request against `bucket` of app `app`; throws `429` when over `limit` per second.
    static func rateLimit(
        _ app: inout OneSignalAppState, _ bucket: AppRateLimiters.Bucket, limit: Int?, envelope: OneSignalError.Envelope
    ) throws(OneSignalError) {
        guard let wait = app.rateLimiters.acquire(bucket, limit: limit) else { return }
        let name: String
        switch bucket {
        case .write: name = "User"
        case .view, .notification: name = "App ID"
        }
        throw .rateLimited(retryAfter: wait, envelope: envelope, limit: name)
    }
}
