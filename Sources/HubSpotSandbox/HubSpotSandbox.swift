import Foundation
import Logging
import SandboxKit

/// An in-process, in-memory imitation of the HubSpot REST API (CRM objects v3, properties, associations v4, custom
/// and timeline events, notes, custom objects, workflow-action callbacks), with HubSpot's authentication, rate limits
/// and error bodies, for tests and `hubsignal sandbox hubspot`.
///
/// ```swift
/// let sandbox = HubSpotSandbox(configuration: .init(accessToken: "pat-na1-test"))
/// try await sandbox.start()
/// // point the HubSpot client at sandbox.baseURL …
/// #expect(sandbox.contact(email: "ada@example.com")?["firstname"] == "Ada")
/// await sandbox.stop()
/// ```
public final class HubSpotSandbox: Sendable {
    /// How the sandbox behaves.
    public struct Configuration: Sendable {
        /// The only `Authorization: Bearer` token accepted; anything else is 401 `INVALID_AUTHENTICATION`.
        public var accessToken: String
        /// The portal (hub) id: custom event names are `pe{portalID}_…`, custom objects `p{portalID}_…`.
        public var portalID: Int
        /// Requests allowed per ``rateLimitWindow`` (HubSpot: 100, 110 or 190 per 10 s).
        public var rateLimit: Int
        /// The rolling window of ``rateLimit``.
        public var rateLimitWindow: Duration
        /// Requests allowed per day (resets at midnight UTC).
        public var dailyLimit: Int
        /// Search requests allowed per second.
        public var searchRequestsPerSecond: Int
        /// Where the server listens.
        public var host: String
        /// The port (0: any free port).
        public var port: Int
        /// The developer API key the app-level endpoints (action definitions) accept as `?hapikey=`; they accept no
        /// token, and other endpoints accept no developer key. `nil` accepts none.
        public var developerAPIKey: String?
        /// The server's own log level (it never logs headers or bodies).
        public var logLevel: Logger.Level
        /// Whether `/events/v3/send` refuses an `eventName` without a definition (created through
        /// `/events/v3/event-definitions` or ``HubSpotSandbox/defineBehavioralEvent(name:label:propertyNames:)``).
        /// Occurrences of a defined event are always checked against its properties. Default `true`, as HubSpot does.
        public var requireEventDefinitions: Bool
        /// How long a write takes to show in search (HubSpot's search is eventually consistent); zero shows writes
        /// at once.
        public var searchIndexingDelay: Duration
        /// The token's scopes (e.g. `crm.objects.contacts.write`, `crm.schemas.contacts.read`,
        /// `analytics.behavioral_events.send`, `timeline`, `automation`); a request needing another is 403
        /// `MISSING_SCOPES`. `nil` grants every scope.
        public var scopes: Set<String>?
        /// The most requests ``HubSpotSandbox/requests`` keeps (oldest dropped first); `nil` keeps all.
        public var requestLogLimit: Int?
        /// The app's OAuth client (`/oauth/authorize`, `/oauth/v3/token`, `/oauth/v3/token/introspect`); `nil`: the
        /// OAuth endpoints answer 404 and only ``accessToken`` is accepted.
        public var oauth: OAuthConfiguration?

        /// The defaults are a Free/Starter private app: 100 requests per 10 s, 250,000 a day, 5 searches a second.
        public init(
            accessToken: String, portalID: Int = 12_345_678, rateLimit: Int = 100, rateLimitWindow: Duration = .seconds(10),
            dailyLimit: Int = 250_000, searchRequestsPerSecond: Int = 5, host: String = "127.0.0.1", port: Int = 0,
            developerAPIKey: String? = nil, logLevel: Logger.Level = .warning, requireEventDefinitions: Bool = true,
            requestLogLimit: Int? = nil, scopes: Set<String>? = nil, searchIndexingDelay: Duration = .zero
        ) {
            self.accessToken = accessToken
            self.portalID = portalID
            self.rateLimit = rateLimit
            self.rateLimitWindow = rateLimitWindow
            self.dailyLimit = dailyLimit
            self.searchRequestsPerSecond = searchRequestsPerSecond
            self.host = host
            self.port = port
            self.developerAPIKey = developerAPIKey
            self.logLevel = logLevel
            self.requireEventDefinitions = requireEventDefinitions
            self.requestLogLimit = requestLogLimit
            self.scopes = scopes
            self.searchIndexingDelay = searchIndexingDelay
        }
    }

    /// The configuration the sandbox was made with.
    public let configuration: Configuration
    /// Every request received, with its status.
    public let requests: RequestLog
    /// Faults to inject into coming requests.
    public let faults: FaultPlan

    let box: HubSpotStateBox
    let limiter: HubSpotRateLimiter
    let oauth: HubSpotOAuthServer
    private let server: SandboxServer

    /// A sandbox with HubSpot's default contact, company and note properties and no objects.
    public init(configuration: Configuration) {
        self.configuration = configuration
        self.requests = RequestLog(limit: configuration.requestLogLimit)
        self.faults = FaultPlan()
        self.box = HubSpotStateBox(Self.initialState(configuration))
        self.limiter = HubSpotRateLimiter(
            limit: configuration.rateLimit, window: configuration.rateLimitWindow, dailyLimit: configuration.dailyLimit,
            searchPerSecond: configuration.searchRequestsPerSecond, portalID: configuration.portalID)
        let oauth = HubSpotOAuthServer()
        self.oauth = oauth
        let router = Self.makeRouter(
            configuration: configuration, box: box, requests: requests, faults: faults, limiter: limiter, oauth: oauth)
        self.server = SandboxServer(
            router: router, host: configuration.host, port: configuration.port, name: "hubspot-sandbox",
            logLevel: configuration.logLevel)
    }

    /// The state a new sandbox starts with: HubSpot's default properties, no objects.
    static func initialState(_ configuration: Configuration) -> HubSpotState {
        var state = HubSpotState(portalID: configuration.portalID)
        state.requireEventDefinitions = configuration.requireEventDefinitions
        let delay = configuration.searchIndexingDelay.components
        state.searchIndexingDelay = Double(delay.seconds) + Double(delay.attoseconds) / 1e18
        return state
    }

    /// Forgets everything: objects, custom types and properties, associations, events, completions, recorded
    /// requests, pending faults, counted requests and OAuth codes and tokens. The server keeps running.
    public func reset() {
        box.replace(with: Self.initialState(configuration))
        requests.clear()
        faults.clear()
        limiter.reset()
        oauth.reset()
    }

    /// Starts serving in the background; returns the bound port.
    @discardableResult
    public func start() async throws -> Int {
        try await server.start()
    }

    /// The bound port while started, else the configured one.
    public var port: Int {
        server.port ?? configuration.port
    }

    /// `http://HOST:PORT` to give a HubSpot client instead of `https://api.hubapi.com`.
    public var baseURL: String {
        let host = ["0.0.0.0", "::", ""].contains(configuration.host) ? "127.0.0.1" : configuration.host
        return "http://\(host.contains(":") ? "[\(host)]" : host):\(port)"
    }

    /// Stops a sandbox started with ``start()``, releasing requests held by timeout or latency faults.
    public func stop() async {
        faults.releaseHeldRequests()
        await server.stop()
    }

    /// Serves in the current task until it is cancelled or the process gets SIGINT/SIGTERM; `onRunning` gets the
    /// bound port.
    public func run(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        try await server.run(onRunning: onRunning)
    }
}
