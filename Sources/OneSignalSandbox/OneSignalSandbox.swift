import Foundation
import Hummingbird
import Logging
import SandboxKit

/// An in-process, in-memory imitation of the OneSignal REST API (`shared/contracts/onesignal.md`), for tests,
/// `hubsignal dev` and `hubsignal sandbox onesignal`.
///
/// It serves the User Model API (users, aliases, subscriptions, tags), create/view/cancel notification and segments
/// at OneSignal's paths without `/api/v1` (point a client's base URL at ``baseURL``), with OneSignal's auth, error
/// bodies, rate limits and idempotency (plus the legacy tag edit under `/api/v1`), and validates request bodies
/// against the official OpenAPI document v5.12.0.
/// It can send message events to an Event Stream URL the way OneSignal does.
///
/// ```swift
/// let sandbox = OneSignalSandbox(configuration: .init(appID: appID, apiKey: "os_v2_app_test", rateLimits: .disabled))
/// try await sandbox.start()
/// // … point the client at sandbox.baseURL, run the code under test …
/// #expect(sandbox.user(appID: appID, externalID: "contact_123")?.tags == ["plan": "pro"])
/// await sandbox.stop()
/// ```
public final class OneSignalSandbox: Sendable {
    /// The configuration it was made with.
    public let configuration: Configuration
    /// The requests received (all, or the most recent `Configuration.requestLogLimit`), with bodies and statuses.
    public let requests: RequestLog
    /// Faults to inject into the next matching requests (`503`, latency, timeouts, dropped connections).
    public let faults: FaultPlan
    /// Every message event sent so far.
    public var emittedEvents: [MessageEventEmitter.Delivery] { api.emitter.all }

    let api: OneSignalAPI
    private let server: SandboxServer

    /// A sandbox for `configuration`; nothing listens until ``start()`` or ``run(onRunning:)``.
    public init(configuration: Configuration) {
        var logger = Logger(label: "hubsignal.onesignal-sandbox")
        logger.logLevel = configuration.logLevel
        self.configuration = configuration
        self.requests = RequestLog(limit: configuration.requestLogLimit)
        self.faults = FaultPlan()
        self.api = OneSignalAPI(configuration: configuration, emitter: MessageEventEmitter(logger: logger))
        let router = Router(context: SandboxRequestContext.self)
        router.add(middleware: RequestLogMiddleware(log: requests))
        router.add(middleware: FaultMiddleware(plan: faults))
        api.register(on: router)
        self.server = SandboxServer(
            router: router, host: configuration.host, port: configuration.port, name: "onesignal-sandbox",
            logLevel: configuration.logLevel)
    }

    // MARK: - Lifecycle

    /// Starts listening in the background; returns the bound port.
    @discardableResult
    public func start() async throws -> Int {
        try await server.start()
    }

    /// Stops a server started with ``start()``, letting requests in flight finish.
    public func stop() async {
        await server.stop()
    }

    /// Runs in the current task until it is cancelled or the process gets SIGINT or SIGTERM; `onRunning` gets the
    /// bound port once listening.
    public func run(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        try await server.run(onRunning: onRunning)
    }

    /// `http://<host>:<port>` while running (use it as the client's base URL), else `nil`.
    public var baseURL: URL? {
        server.port.flatMap { URL(string: "http://\(Self.hostForURL(configuration.host)):\($0)") }
    }

    // MARK: - Inspection

    /// The user of app `appID` whose `external_id` is `externalID`.
    public func user(appID: String, externalID: String) -> OneSignalUser? {
        api.state.withLock { $0.apps[appID.lowercased()]?.user(label: "external_id", id: externalID) }
    }

    /// The user of app `appID` with alias `label` = `id` (`onesignal_id`, `external_id` or a custom label).
    public func user(appID: String, alias label: String, id: String) -> OneSignalUser? {
        api.state.withLock { $0.apps[appID.lowercased()]?.user(label: label, id: id) }
    }

    /// All users of app `appID`, oldest first.
    public func users(appID: String) -> [OneSignalUser] {
        api.state.withLock { $0.apps[appID.lowercased()]?.allUsers ?? [] }
    }

    /// The notifications app `appID` created, oldest first.
    public func notifications(appID: String) -> [OneSignalNotification] {
        api.state.withLock { $0.apps[appID.lowercased()]?.notifications ?? [] }
    }

    /// The segments of app `appID`, oldest first.
    public func segments(appID: String) -> [OneSignalSegment] {
        api.state.withLock { $0.apps[appID.lowercased()]?.segments ?? [] }
    }

    /// How many requests were answered `429` so far.
    public var rateLimitedResponses: Int {
        api.state.withLock { $0.rateLimitedResponses }
    }

    // MARK: - Seeding

    /// A subscription to give a seeded user.
    public struct SeedSubscription: Sendable {
        /// The type (`Email`, `SMS`, `iOSPush`, `AndroidPush`, …).
        public var type: String
        /// The token, address or phone number.
        public var token: String
        /// Whether it receives messages.
        public var enabled: Bool

        /// A subscription of `type` with `token`, subscribed unless `enabled` is `false`.
        public init(type: String, token: String, enabled: Bool = true) {
            self.type = type
            self.token = token
            self.enabled = enabled
        }
    }

    /// Adds (or extends) a user of app `appID` directly, bypassing HTTP, auth and rate limits, but not the tag cap.
    ///
    /// - Throws: `OneSignalSandboxError` when the app is unknown or the user cannot be created (tag cap, alias conflict).
    @discardableResult
    public func seedUser(
        appID: String, externalID: String, tags: [String: String] = [:], aliases: [String: String] = [:],
        subscriptions: [SeedSubscription] = []
    ) throws -> OneSignalUser {
        var identity = aliases
        identity["external_id"] = externalID
        let inputs = subscriptions.map {
            OneSignalAppState.SubscriptionInput(type: $0.type, token: $0.token, enabled: $0.enabled, details: [:])
        }
        do {
            return try api.withApp(appID.lowercased()) { app throws(OneSignalError) in
                try app.createOrUpdateUser(
                    aliases: identity, tags: tags.mapValues { .some($0) }, properties: [:], subscriptions: inputs
                ).user
            }
        } catch {
            throw OneSignalSandboxError(status: Int(error.status.code), body: String(decoding: (try? error.body.serialized()) ?? [], as: UTF8.self))
        }
    }

    // MARK: - Message events

    /// POSTs one message event to `url` the way a OneSignal Event Stream does (§8.1), with a new event id, and retries
    /// on `429`, `5xx` and transport errors.
    ///
    /// - Parameters:
    ///   - kind: a short kind (`sent`, `delivered`, `clicked`, `failed`, …), made `message.<channel>.<kind>` with the
    ///     notification's channel (`delivered` is `received` for push and email), or a full kind such as
    ///     `message.push.clicked`.
    ///   - notificationID: the notification's id; its message fields (name, template, title, url) fill the event when
    ///     the sandbox has it.
    ///   - externalID: the recipient's `external_id`; its `onesignal_id` and subscription fill the event when known.
    ///   - secretHeader: the stream's static header, e.g. `("Authorization", "Bearer <secret>")`.
    ///   - template: the body template; `.flat` is the one HubSignal documents.
    ///   - failureReason: `event.data.failure_reason`, for failed kinds.
    /// - Returns: the delivery, with the event and the last status (`nil` when no attempt got an answer).
    @discardableResult
    public func emitMessageEvent(
        kind: String, notificationID: String, externalID: String, to url: URL, secretHeader: (name: String, value: String),
        template: MessageEventTemplate = .flat, failureReason: String = ""
    ) async -> MessageEventEmitter.Delivery {
        let id = notificationID.lowercased()
        let (notification, appID) = api.state.withLock { state -> (OneSignalNotification?, String) in
            for (appID, app) in state.apps {
                if let notification = app.notifications.first(where: { $0.id == id }) { return (notification, appID) }
            }
            return (nil, configuration.apps.first?.id ?? "")
        }
        let recipient =
            notification?.recipients.first { $0.externalID == externalID }
            ?? api.state.withLock { state in
                state.apps[appID]?.user(label: "external_id", id: externalID).flatMap { user in
                    user.subscriptions.first.map {
                        OneSignalNotification.Recipient(
                            onesignalID: user.onesignalID, externalID: externalID, subscriptionID: $0.id,
                            subscriptionType: $0.type, token: $0.token)
                    }
                }
            }
        let event = MessageEventEmitter.event(
            kind: kind, notification: notification, messageID: id, recipient: recipient, appID: appID,
            externalID: externalID, failureReason: failureReason)
        return await api.emitter.send(
            event, to: url, header: .init(name: secretHeader.name, value: secretHeader.value), template: template)
    }

    private static func hostForURL(_ host: String) -> String {
        host.contains(":") ? "[\(host)]" : host
    }
}
